// Fuzz target for the runtime's parsers of outside input: the metrics endpoint's HTTP request
// head, the config-format sniffer, the command line, and the client's message parser with
// modifications applied. The first byte picks the parser.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/action.h"
#include "common/cmdline.h"
#include "common/logging.h"
#include "common/metrics.h"
#include "common/settings.h"
#include "milterclient/message.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  using namespace inkan;
  switch (data[0] % 6) {
    case 0: {
      std::string r = milter::http_response(in, [] { return std::string("x 1\n"); });
      if (r.rfind("HTTP/1.0 ", 0) != 0) __builtin_trap();
      break;
    }
    case 1: (void)milter::detect_config_format("/etc/x.conf", in); break;
    case 2: {
      std::vector<std::string> args;
      std::size_t pos = 0;
      while (pos <= in.size() && args.size() < 256) {
        auto z = in.find('\0', pos);
        args.emplace_back(in.substr(pos, z == in.npos ? in.npos : z - pos));
        if (z == in.npos) break;
        pos = z + 1;
      }
      milter::CommandLineSpec spec;
      spec.program = "fuzz";
      (void)milter::parse_command_line(spec, args);
      break;
    }
    case 3: {
      auto m = milterclient::parse_message(in);
      if (m) {
        using K = milterclient::Modification::Kind;
        auto out = milterclient::apply_modifications(
            *m, {{K::InsertHeader, 0, "A", "b"}, {K::ChangeHeader, 2, "a", ""}, {K::AddHeader, 0, "C", "d"}}, false);
        (void)milterclient::render_message(out);
      }
      break;
    }
    case 4: {
      auto v = milter::normalize_header_value(in);
      if (v && v->find("\n") != std::string::npos) {
        // Every line break must be a fold.
        for (std::size_t i = 0; i < v->size(); ++i) {
          if ((*v)[i] == '\n' && (i + 1 >= v->size() || ((*v)[i + 1] != ' ' && (*v)[i + 1] != '\t'))) __builtin_trap();
        }
      }
      (void)milter::sanitize_reply(milter::Verdict::Reject, {"550", "5.7.1", std::string(in)});
      break;
    }
    case 5: {
      std::string p = milter::printable(in);
      for (char c : p) {
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) __builtin_trap();
      }
      (void)milter::parse_host_port(in);
      break;
    }
  }
  return 0;
}
