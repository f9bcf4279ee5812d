// milter-client — send a message file to a milter as an MTA would, print what it answered
// and the message with its header changes applied.
//
//   milter-client -s SOCKET [options] FILE|-
//     -s, --socket SPEC       inet:PORT@HOST, inet:HOST:PORT, unix:/path
//     -D, --macro STAGE:N=V   a macro (stage connect|helo|mail|rcpt|data|eoh|eom, or C H M R T N E)
//     -i, --queue-id ID       shorthand for the `i` macro at mail, rcpt, data, eoh and eom
//     -f, --from ADDR         MAIL FROM (default <sender@example.net>)
//     -r, --rcpt ADDR         RCPT TO, repeatable (default <rcpt@example.org>)
//     -H, --helo NAME         HELO name
//     --client-host NAME      connecting client's name (default localhost)
//     --client-addr ADDR      its address (default 127.0.0.1)
//     --chunk N               body chunk size (default 65535)
//     --no-leading-space      do not offer SMFIP_HDR_LEADSPC
//     -t, --timeout SECONDS   per read/write (default 10)
//     -q, --quiet             print only the final action
// Exit status: 0 accept/continue, 2 reject, 3 tempfail, 4 discard, 1 usage or protocol error.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "milterclient/milter_client.h"

using namespace inkan::milterclient;

namespace {

void usage(std::FILE* out) {
  std::fputs(
      "usage: milter-client -s SOCKET [-D STAGE:NAME=VALUE]... [-i QUEUEID] [-f FROM] [-r RCPT]...\n"
      "                     [-H HELO] [--client-host NAME] [--client-addr ADDR] [--chunk N]\n"
      "                     [--no-leading-space] [-t SECONDS] [-q] FILE|-\n",
      out);
}

std::string escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\r') out += "\\r";
    else if (c == '"' || c == '\\') { out.push_back('\\'); out.push_back(c); }
    else if (u < 0x20 || u == 0x7f) { char b[8]; std::snprintf(b, sizeof b, "\\x%02x", u); out += b; }
    else out.push_back(c);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string spec, file;
  Transaction t;
  std::vector<std::string> rcpts;
  long timeout_s = 10;
  bool quiet = false;
  std::uint32_t protocol = wire::kAllProtocol;
  std::vector<Macro> macros;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "milter-client: %s needs a value\n", a.c_str());
        std::exit(1);
      }
      return argv[++i];
    };
    if (a == "-s" || a == "--socket") spec = value();
    else if (a == "-D" || a == "--macro") {
      auto m = parse_macro_arg(value());
      if (!m) {
        std::fprintf(stderr, "milter-client: %s\n", m.error().reason.c_str());
        return 1;
      }
      macros.push_back(*m);
    } else if (a == "-i" || a == "--queue-id") {
      std::string id = value();
      for (auto st : {MacroStage::Mail, MacroStage::Rcpt, MacroStage::Data, MacroStage::Eoh, MacroStage::Eom}) {
        macros.push_back({st, "i", id});
      }
    } else if (a == "-f" || a == "--from") t.mail_from = value();
    else if (a == "-r" || a == "--rcpt") rcpts.push_back(value());
    else if (a == "-H" || a == "--helo") t.helo = value();
    else if (a == "--client-host") t.client_host = value();
    else if (a == "--client-addr") t.client_addr = value();
    else if (a == "--chunk") t.chunk_size = std::strtoul(value().c_str(), nullptr, 10);
    else if (a == "--no-leading-space") protocol &= ~wire::kHeaderLeadingSpace;
    else if (a == "-t" || a == "--timeout") timeout_s = std::strtol(value().c_str(), nullptr, 10);
    else if (a == "-q" || a == "--quiet") quiet = true;
    else if (a == "-h" || a == "--help") {
      usage(stdout);
      return 0;
    } else if (!a.empty() && a[0] == '-' && a != "-") {
      std::fprintf(stderr, "milter-client: unknown option %s\n", a.c_str());
      usage(stderr);
      return 1;
    } else file = a;
  }
  if (spec.empty() || file.empty()) {
    usage(stderr);
    return 1;
  }
  if (t.chunk_size == 0 || t.chunk_size > wire::kMaxChunk) t.chunk_size = wire::kMaxChunk;
  if (!rcpts.empty()) t.rcpts = rcpts;
  t.macros = macros;

  std::string text;
  if (file == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    text = ss.str();
  } else {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "milter-client: cannot read %s\n", file.c_str());
      return 1;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  auto msg = parse_message(text);
  if (!msg) {
    std::fprintf(stderr, "milter-client: %s: %s\n", file.c_str(), msg.error().reason.c_str());
    return 1;
  }
  t.message = std::move(*msg);

  auto c = Client::connect(spec, std::chrono::seconds(timeout_s > 0 ? timeout_s : 10));
  if (!c) {
    std::fprintf(stderr, "milter-client: %s\n", c.error().reason.c_str());
    return 1;
  }
  auto n = c->negotiate(wire::kAllActions, protocol);
  if (!n) {
    std::fprintf(stderr, "milter-client: negotiation: %s\n", n.error().reason.c_str());
    return 1;
  }
  auto r = run_on(*c, t, true);
  if (c->is_open()) (void)c->quit();
  if (!r) {
    std::fprintf(stderr, "milter-client: %s\n", r.error().reason.c_str());
    return 1;
  }
  if (!quiet) {
    std::printf("negotiated: version=%u actions=0x%03x protocol=0x%06x\n", n->version, n->actions, n->protocol);
    for (const auto& [name, resp] : r->steps) std::printf("%s: %s\n", name.c_str(), resp.describe().c_str());
    for (const auto& m : r->modifications) {
      std::printf("modification: %s", std::string(to_string(m.kind)).c_str());
      if (m.kind == Modification::Kind::InsertHeader || m.kind == Modification::Kind::ChangeHeader) {
        std::printf(" index=%u", m.index);
      }
      if (m.kind == Modification::Kind::ReplaceBody) {
        std::printf(" bytes=%zu\n", m.value.size());
      } else {
        std::printf(" %s \"%s\"\n", escape(m.name).c_str(), escape(m.value).c_str());
      }
    }
  }
  std::printf("result: %s (at %s)\n", r->final.describe().c_str(), r->ended_at.c_str());
  if (!quiet) {
    std::printf("--- message ---\n");
    std::string out = render_message(r->result);
    std::fwrite(out.data(), 1, out.size(), stdout);
  }
  switch (r->final.code) {
    case 'r': return 2;
    case 't': return 3;
    case 'd': return 4;
    case 'y': return !r->final.reply.empty() && r->final.reply[0] == '4' ? 3 : 2;
    default: return 0;
  }
}
