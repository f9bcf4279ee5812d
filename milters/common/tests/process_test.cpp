#include "common/process.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace inkan::milter {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/inkan-process-test-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(PidFile, WriteReplaceRemove) {
  TempDir d;
  fs::path p = d.path / "x.pid";
  { std::ofstream(p) << "99999999\n"; }  // stale file from a crash
  ASSERT_TRUE(write_pidfile(p.string()));
  EXPECT_EQ(slurp(p), std::to_string(getpid()) + "\n");
  struct stat st {};
  ASSERT_EQ(stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0022, 0u) << "not writable by others";
  ASSERT_TRUE(remove_pidfile(p.string()));
  EXPECT_FALSE(fs::exists(p));
  EXPECT_TRUE(remove_pidfile(p.string())) << "already gone is fine";
}

TEST(PidFile, SymlinkIsReplacedNotFollowed) {
  TempDir d;
  fs::path target = d.path / "victim";
  { std::ofstream(target) << "precious"; }
  fs::path p = d.path / "x.pid";
  fs::create_symlink(target, p);
  ASSERT_TRUE(write_pidfile(p.string()));
  EXPECT_EQ(slurp(target), "precious");
  EXPECT_FALSE(fs::is_symlink(p));
}

TEST(PidFile, AnotherProcessesFileIsLeftAlone) {
  TempDir d;
  fs::path p = d.path / "x.pid";
  { std::ofstream(p) << "1\n"; }
  auto r = remove_pidfile(p.string());
  EXPECT_FALSE(r);
  EXPECT_TRUE(fs::exists(p));
}

TEST(PidFile, UnwritableDirectory) {
  auto r = write_pidfile("/nonexistent-dir-inkan/x.pid");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, auth::ErrorCode::Io);
}

TEST(Users, Resolve) {
  auto root = resolve_user({"root", ""});
  ASSERT_TRUE(root) << root.error().reason;
  EXPECT_EQ(root->uid, 0u);
  EXPECT_EQ(root->gid, 0u);
  auto numeric = resolve_user({"0", "0"});
  ASSERT_TRUE(numeric);
  EXPECT_EQ(numeric->user, "root");
  EXPECT_FALSE(resolve_user({"no-such-user-inkan", ""}));
  EXPECT_FALSE(resolve_user({"root", "no-such-group-inkan"}));
}

TEST(Users, DropToSelfIsANoOp) {
  Credentials self{geteuid(), getegid(), "self"};
  EXPECT_TRUE(drop_privileges(self));
}

}  // namespace
}  // namespace inkan::milter
