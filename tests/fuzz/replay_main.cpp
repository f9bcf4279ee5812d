// Replay driver for fuzz targets when libFuzzer is not available (fmt FMT_FUZZ_LINKMAIN):
// runs LLVMFuzzerTestOneInput on every file named on the command line, or every file in
// the named directories, so ctest exercises the checked-in seed corpora on any compiler.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {
int run_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "replay: cannot read %s\n", p.c_str());
    return 1;
  }
  std::vector<char> buf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(buf.data()), buf.size());
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  int failures = 0;
  std::size_t count = 0;
  for (int i = 1; i < argc; ++i) {
    std::filesystem::path arg(argv[i]);
    if (std::filesystem::is_directory(arg)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(arg)) {
        if (e.is_regular_file()) {
          failures += run_file(e.path());
          ++count;
        }
      }
    } else {
      failures += run_file(arg);
      ++count;
    }
  }
  // Hostile edge cases every parser must survive, whatever the corpus holds.
  static const std::string kEdges[] = {"", std::string(1, '\0'), std::string(100000, 'a'),
                                       std::string(5000, '('), std::string(5000, '"'),
                                       "\r\n\r\n", std::string(3000, '\\')};
  for (const auto& e : kEdges) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(e.data()), e.size());
    ++count;
  }
  std::printf("replayed %zu inputs, %d unreadable\n", count, failures);
  if (count == 0) return 1;
  return failures == 0 ? 0 : 1;
}
