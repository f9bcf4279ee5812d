#include "common/metrics.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace inkan::milter {
namespace {

TEST(Metrics, CountersRenderInTextFormat) {
  Metrics m("inkan_dkim");
  m.count_verdict("pass");
  m.count_verdict("pass");
  m.count_verdict("fail");
  m.count_error("dns_timeout");
  m.gauge("connections_active", "Open connections.").set(3);
  std::string t = m.render();
  EXPECT_NE(t.find("# HELP inkan_dkim_messages_total Messages finished, by verdict.\n"
                   "# TYPE inkan_dkim_messages_total counter\n"
                   "inkan_dkim_messages_total{verdict=\"fail\"} 1\n"
                   "inkan_dkim_messages_total{verdict=\"pass\"} 2\n"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("inkan_dkim_errors_total{kind=\"dns_timeout\"} 1\n"), std::string::npos);
  EXPECT_NE(t.find("# TYPE inkan_dkim_connections_active gauge\ninkan_dkim_connections_active 3\n"),
            std::string::npos);
}

TEST(Metrics, Histogram) {
  Metrics m("x");
  m.observe_dns_latency(std::chrono::milliseconds(3));
  m.observe_dns_latency(std::chrono::milliseconds(40));
  m.observe_dns_latency(std::chrono::seconds(60));
  std::string t = m.render();
  EXPECT_NE(t.find("# TYPE x_dns_latency_seconds histogram\n"), std::string::npos);
  EXPECT_NE(t.find("x_dns_latency_seconds_bucket{le=\"0.001\"} 0\n"), std::string::npos) << t;
  EXPECT_NE(t.find("x_dns_latency_seconds_bucket{le=\"0.005\"} 1\n"), std::string::npos);
  EXPECT_NE(t.find("x_dns_latency_seconds_bucket{le=\"0.05\"} 2\n"), std::string::npos);
  EXPECT_NE(t.find("x_dns_latency_seconds_bucket{le=\"30\"} 2\n"), std::string::npos);
  EXPECT_NE(t.find("x_dns_latency_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(t.find("x_dns_latency_seconds_sum 60.043\n"), std::string::npos);
  EXPECT_NE(t.find("x_dns_latency_seconds_count 3\n"), std::string::npos);
}

TEST(Metrics, LabelEscapingAndNameSanitising) {
  Metrics m("inkan");
  m.counter("odd name", "Help with \\ and\nnewline", {{"k-ey", "a\"b\\c\nd"}}).inc(5);
  std::string t = m.render();
  EXPECT_NE(t.find("# HELP inkan_odd_name Help with \\\\ and\\nnewline\n"), std::string::npos) << t;
  EXPECT_NE(t.find("inkan_odd_name{k_ey=\"a\\\"b\\\\c\\nd\"} 5\n"), std::string::npos) << t;
}

TEST(Metrics, CardinalityIsBounded) {
  Metrics m("inkan");
  for (int i = 0; i < 10000; ++i) m.count_verdict("v" + std::to_string(i));
  std::string t = m.render();
  std::size_t lines = 0;
  for (char c : t) lines += c == '\n';
  EXPECT_EQ(lines, kMaxSeriesPerFamily + 1 + 2);  // series + "other" + HELP/TYPE
  EXPECT_NE(t.find("inkan_messages_total{verdict=\"other\"} " + std::to_string(10000 - kMaxSeriesPerFamily) + "\n"),
            std::string::npos);
}

TEST(Metrics, TypeClashIsHarmless) {
  Metrics m("p");
  m.counter("a", "h").inc();
  m.gauge("a", "h").set(7);  // programmer error: never rendered
  std::string t = m.render();
  EXPECT_NE(t.find("p_a 1\n"), std::string::npos);
  EXPECT_EQ(t.find(" 7\n"), std::string::npos);
}

TEST(Metrics, ConcurrentIncrements) {
  Metrics m("c");
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; ++i) {
    ts.emplace_back([&] {
      for (int j = 0; j < 10000; ++j) m.count_verdict(j % 2 ? "a" : "b");
    });
  }
  for (auto& t : ts) t.join();
  std::string t = m.render();
  EXPECT_NE(t.find("c_messages_total{verdict=\"a\"} 20000\n"), std::string::npos);
  EXPECT_NE(t.find("c_messages_total{verdict=\"b\"} 20000\n"), std::string::npos);
}

TEST(SampleValue, Formats) {
  EXPECT_EQ(format_sample_value(3), "3");
  EXPECT_EQ(format_sample_value(0.25), "0.25");
  EXPECT_EQ(format_sample_value(0.1), "0.1");
  EXPECT_EQ(format_sample_value(1.0 / 0.0), "+Inf");
  EXPECT_EQ(format_sample_value(0.0 / 0.0), "NaN");
}

TEST(HostPort, Parse) {
  EXPECT_EQ(*parse_host_port("127.0.0.1:9101"), (HostPort{"127.0.0.1", 9101}));
  EXPECT_EQ(*parse_host_port("[::1]:9101"), (HostPort{"::1", 9101}));
  EXPECT_EQ(*parse_host_port("localhost:0"), (HostPort{"localhost", 0}));
  for (auto bad : {"", "9101", ":9101", "127.0.0.1:", "127.0.0.1:65536", "::1:9101", "[::1]9101", "[::1",
                   "h:12a", "h o:1", "127.0.0.1:123456"}) {
    EXPECT_FALSE(parse_host_port(bad)) << bad;
  }
}

struct HttpCase {
  std::string_view name;
  std::string_view request;
  std::string_view status;
  bool has_body;
};

class Http : public testing::TestWithParam<HttpCase> {};

TEST_P(Http, Responses) {
  const auto& c = GetParam();
  std::string r = http_response(c.request, [] { return std::string("x_total 1\n"); });
  EXPECT_EQ(r.rfind(std::string("HTTP/1.0 ") + std::string(c.status), 0), 0u) << r;
  EXPECT_EQ(r.find("x_total 1\n") != std::string::npos, c.has_body) << r;
  EXPECT_NE(r.find("\r\n\r\n"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    All, Http,
    testing::ValuesIn(std::vector<HttpCase>{
        {"get", "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", "200", true},
        {"get_query", "GET /metrics?x=1 HTTP/1.0\r\n\r\n", "200", true},
        {"head", "HEAD /metrics HTTP/1.0\r\n\r\n", "200", false},
        {"lf_only", "GET /metrics HTTP/1.0\n\n", "200", true},
        {"other_path", "GET / HTTP/1.0\r\n\r\n", "404", false},
        {"post", "POST /metrics HTTP/1.0\r\n\r\n", "405", false},
        {"garbage", "\x16\x03\x01\x02\x00", "400", false},
        {"empty", "", "400", false},
        {"no_version", "GET /metrics\r\n\r\n", "400", false},
    }),
    [](const auto& i) { return std::string(i.param.name); });

std::string fetch(std::uint16_t port, std::string_view request) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0) {
    close(fd);
    return "connect failed";
  }
  if (!request.empty()) send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<std::size_t>(n));
  close(fd);
  return out;
}

TEST(MetricsServer, ServesOnLoopback) {
  Metrics m("inkan_test");
  m.count_verdict("pass");
  auto srv = MetricsServer::start("127.0.0.1:0", [&] { return m.render(); }, nullptr);
  ASSERT_TRUE(srv) << srv.error().reason;
  ASSERT_NE((*srv)->port(), 0);
  EXPECT_TRUE((*srv)->loopback());
  std::string r = fetch((*srv)->port(), "GET /metrics HTTP/1.0\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << r;
  EXPECT_NE(r.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  EXPECT_NE(r.find("inkan_test_messages_total{verdict=\"pass\"} 1\n"), std::string::npos);
  // A request head at the size bound is answered (400: no request line), and the server
  // keeps serving.
  std::string big(kMaxHttpRequest, 'A');
  EXPECT_EQ(fetch((*srv)->port(), big).rfind("HTTP/1.0 400", 0), 0u);
  EXPECT_EQ(fetch((*srv)->port(), "GET /metrics HTTP/1.0\r\n\r\n").rfind("HTTP/1.0 200", 0), 0u);
  srv->reset();  // stops the thread
}

TEST(MetricsServer, BadAddress) {
  EXPECT_FALSE(MetricsServer::start("nonsense", [] { return std::string(); }, nullptr));
  EXPECT_FALSE(MetricsServer::start("192.0.2.1:0", [] { return std::string(); }, nullptr))
      << "not a local address: bind fails";
}

}  // namespace
}  // namespace inkan::milter
