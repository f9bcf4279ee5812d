// dkim_profile — a plain loop over one DKIM operation, for instruction counts under
// valgrind --tool=callgrind (repeatable on a loaded machine, unlike wall-clock time):
//
//   dkim_profile {sign|verify|raw-sign} {rsa|ed} {4k|100k} [iterations]
//
// Counts per operation: run with N and with N+K iterations and divide the difference by K
// (bench/dkim/callgrind.sh does this). "raw-sign" is auth::crypto::sign() of a digest alone.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "auth/crypto/base64.h"
#include "auth/crypto/hash.h"
#include "auth/crypto/key.h"
#include "auth/crypto/sign.h"
#include "auth/dkim/signer.h"
#include "auth/dkim/verifier.h"
#include "auth/dns/zone.h"
#include "corpus.h"

namespace {

using inkan::bench::kDomain;
using inkan::bench::kFixedTime;
using inkan::bench::make_message;

[[noreturn]] void die(const char* what, const std::string& why) {
  std::fprintf(stderr, "dkim_profile: %s: %s\n", what, why.c_str());
  std::exit(1);
}

struct Ops {
  const std::string& op;
  const std::string& msg;
  const std::string& signed_msg;
  const auth::dkim::SignOptions& so;
  const auth::dkim::VerifyOptions& vo;
  auth::dns::ZoneResolver& zone;
  const auth::crypto::PrivateKey& key;
  auth::crypto::SignAlg alg;
  const std::string& digest;
};

// One operation; callgrind.sh counts only what runs inside this function
// (--toggle-collect), so key generation and set-up do not blur the figures.
__attribute__((noinline)) std::size_t profiled_op(const Ops& o) {
  if (o.op == "sign") {
    auto f = auth::dkim::sign_message(o.msg, o.so);
    if (!f) die("sign", f.error().reason);
    return f->front().size();
  }
  if (o.op == "verify") {
    auto r = auth::dkim::verify_message(o.signed_msg, o.zone, o.vo);
    if (r.size() != 1 || r[0].result != auth::dkim::DkimResult::Pass) {
      die("verify", r.empty() ? "no result" : r[0].reason);
    }
    return r[0].reason.size();
  }
  if (o.op == "raw-sign") {
    auto s = auth::crypto::sign(o.key, o.alg, o.digest);
    if (!s) die("crypto::sign", s.error().reason);
    return s->size();
  }
  die("op", o.op);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: dkim_profile {sign|verify|raw-sign} {rsa|ed} {4k|100k} [N]\n");
    return 2;
  }
  const std::string op = argv[1];
  const bool is_rsa = std::strcmp(argv[2], "rsa") == 0;
  const std::size_t size = std::strcmp(argv[3], "100k") == 0 ? 100 * 1024 : 4 * 1024;
  const long n = argc > 4 ? std::atol(argv[4]) : 1;

  auto k = is_rsa ? auth::crypto::PrivateKey::generate_rsa(2048)
                  : auth::crypto::PrivateKey::generate_ed25519();
  if (!k) die("key generation", k.error().reason);
  const auth::crypto::PrivateKey key = std::move(k).value();
  const char* selector = is_rsa ? "rsa" : "ed";
  auth::dns::ZoneResolver zone;
  auto p = auth::crypto::PublicKey::from_private(key).dkim_p();
  if (!p) die("dkim_p", p.error().reason);
  zone.add_txt(std::string(selector) + "._domainkey." + kDomain,
               std::string("v=DKIM1; k=") + auth::crypto::to_string(key.type()) +
                   "; p=" + auth::crypto::base64_encode(*p));

  auth::dkim::SignatureSpec spec;
  spec.domain = kDomain;
  spec.selector = selector;
  spec.key = std::make_shared<auth::crypto::LocalSigner>(key);
  auth::dkim::SignOptions so;
  so.signatures.push_back(std::move(spec));
  so.clock = auth::dkim::fixed_clock(kFixedTime);

  const std::string msg = make_message(size);
  auto fields = auth::dkim::sign_message(msg, so);
  if (!fields) die("sign", fields.error().reason);
  const std::string signed_msg = fields->front() + "\r\n" + msg;
  auth::dkim::VerifyOptions vo;
  vo.key_lookup = auth::dkim::KeyLookup::Blocking;
  vo.clock = auth::dkim::fixed_clock(kFixedTime);
  // As inkan-dkim verifies: parsed key records are shared across messages (key_cache.h).
  vo.key_cache = std::make_shared<auth::dkim::KeyCache>();
  const std::string digest = auth::crypto::sha256("benchmark");
  const auto alg = is_rsa ? auth::crypto::SignAlg::RsaSha256 : auth::crypto::SignAlg::Ed25519Sha256;

  std::size_t sink = 0;
  const Ops ops{op, msg, signed_msg, so, vo, zone, key, alg, digest};
  for (long i = 0; i < n; ++i) sink += profiled_op(ops);
  std::printf("%s %s %s x%ld ok (%zu)\n", op.c_str(), argv[2], argv[3], n, sink);
  return 0;
}
