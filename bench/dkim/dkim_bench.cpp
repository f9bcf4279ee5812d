// dkim_bench — what one DKIM signature or verification costs, against the cost of the raw
// public-key operation underneath it, measured in the same process.
//
//   Sign/<alg>/<size>     auth::dkim::sign_message(): parse headers, canonicalize and hash the
//                         body and the headers, sign, format the field (t= from a fixed clock)
//   Verify/<alg>/<size>   auth::dkim::verify_message() with the key from an in-memory zone:
//                         parse, key record, body and header hashes, signature check
//   Raw/RSA2048Sign       one EVP_PKEY_sign (PKCS#1 v1.5) of a SHA-256 digest on a prepared
//                         context — what `openssl speed rsa2048` counts as one sign
//   Raw/Ed25519Sign       one EVP_DigestSign of a 32-byte message (RFC 8463 signs the digest)
//   Crypto/...            the same through auth::crypto::sign() (context set up per call)
//
// Sizes are whole-message sizes (headers included): 4 KiB and 100 KiB. Run via run.sh.
#include <benchmark/benchmark.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <cstdio>
#include <cstdlib>
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
  std::fprintf(stderr, "dkim_bench: %s: %s\n", what, why.c_str());
  std::exit(1);
}

struct Fixture {
  auth::crypto::PrivateKey rsa;
  auth::crypto::PrivateKey ed;
  auth::dns::ZoneResolver zone;
  std::string msg4k = make_message(4 * 1024);
  std::string msg100k = make_message(100 * 1024);

  static auth::crypto::PrivateKey gen(bool is_rsa) {
    auto k = is_rsa ? auth::crypto::PrivateKey::generate_rsa(2048)
                    : auth::crypto::PrivateKey::generate_ed25519();
    if (!k) die("key generation", k.error().reason);
    return std::move(k).value();
  }
  void publish(const char* selector, const auth::crypto::PrivateKey& key) {
    auto p = auth::crypto::PublicKey::from_private(key).dkim_p();
    if (!p) die("dkim_p", p.error().reason);
    zone.add_txt(std::string(selector) + "._domainkey." + kDomain,
                 std::string("v=DKIM1; k=") + auth::crypto::to_string(key.type()) +
                     "; p=" + auth::crypto::base64_encode(*p));
  }
  Fixture() : rsa(gen(true)), ed(gen(false)) {
    publish("rsa", rsa);
    publish("ed", ed);
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

auth::dkim::SignOptions sign_options(bool is_rsa) {
  auto& f = fixture();
  auth::dkim::SignatureSpec spec;
  spec.domain = kDomain;
  spec.selector = is_rsa ? "rsa" : "ed";
  spec.key = std::make_shared<auth::crypto::LocalSigner>(is_rsa ? f.rsa : f.ed);
  auth::dkim::SignOptions o;
  o.signatures.push_back(std::move(spec));
  o.clock = auth::dkim::fixed_clock(kFixedTime);
  return o;
}

void BM_Sign(benchmark::State& state, bool is_rsa, bool big) {
  auto& f = fixture();
  const std::string& msg = big ? f.msg100k : f.msg4k;
  const auto options = sign_options(is_rsa);
  for (auto _ : state) {
    auto fields = auth::dkim::sign_message(msg, options);
    if (!fields) die("sign", fields.error().reason);
    benchmark::DoNotOptimize(fields->front().data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * msg.size()));
}

void BM_Verify(benchmark::State& state, bool is_rsa, bool big) {
  auto& f = fixture();
  const std::string& msg = big ? f.msg100k : f.msg4k;
  auto fields = auth::dkim::sign_message(msg, sign_options(is_rsa));
  if (!fields) die("sign", fields.error().reason);
  const std::string signed_msg = fields->front() + "\r\n" + msg;
  auth::dkim::VerifyOptions vo;
  vo.key_lookup = auth::dkim::KeyLookup::Blocking;
  vo.clock = auth::dkim::fixed_clock(kFixedTime);
  for (auto _ : state) {
    auto r = auth::dkim::verify_message(signed_msg, f.zone, vo);
    if (r.size() != 1 || r[0].result != auth::dkim::DkimResult::Pass) {
      die("verify", r.empty() ? "no result" : r[0].reason);
    }
    benchmark::DoNotOptimize(r.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * signed_msg.size()));
}

// ---- raw primitives, OpenSSL directly (as `openssl speed` measures them) ----------------------

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};

void BM_RawRsa2048Sign(benchmark::State& state) {
  std::unique_ptr<EVP_PKEY, PkeyDeleter> pkey(EVP_RSA_gen(2048));
  if (!pkey) die("EVP_RSA_gen", "failed");
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> ctx(EVP_PKEY_CTX_new(pkey.get(), nullptr));
  if (!ctx || EVP_PKEY_sign_init(ctx.get()) <= 0 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) <= 0 ||
      EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) <= 0) {
    die("EVP_PKEY_sign_init", "failed");
  }
  const std::string digest = auth::crypto::sha256("benchmark");
  unsigned char sig[512];
  for (auto _ : state) {
    std::size_t len = sizeof sig;
    if (EVP_PKEY_sign(ctx.get(), sig, &len, reinterpret_cast<const unsigned char*>(digest.data()),
                      digest.size()) <= 0) {
      die("EVP_PKEY_sign", "failed");
    }
    benchmark::DoNotOptimize(sig);
  }
}

void BM_RawEd25519Sign(benchmark::State& state) {
  std::unique_ptr<EVP_PKEY, PkeyDeleter> pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (!pkey) die("EVP_PKEY_Q_keygen", "failed");
  const std::string digest = auth::crypto::sha256("benchmark");
  unsigned char sig[64];
  for (auto _ : state) {
    std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> md(EVP_MD_CTX_new());
    std::size_t len = sizeof sig;
    if (!md || EVP_DigestSignInit(md.get(), nullptr, nullptr, nullptr, pkey.get()) <= 0 ||
        EVP_DigestSign(md.get(), sig, &len, reinterpret_cast<const unsigned char*>(digest.data()),
                       digest.size()) <= 0) {
      die("EVP_DigestSign", "failed");
    }
    benchmark::DoNotOptimize(sig);
  }
}

// ---- the same through auth::crypto::sign() ----------------------------------------------------

void BM_CryptoSign(benchmark::State& state, bool is_rsa) {
  auto& f = fixture();
  const std::string digest = auth::crypto::sha256("benchmark");
  const auto alg = is_rsa ? auth::crypto::SignAlg::RsaSha256 : auth::crypto::SignAlg::Ed25519Sha256;
  for (auto _ : state) {
    auto sig = auth::crypto::sign(is_rsa ? f.rsa : f.ed, alg, digest);
    if (!sig) die("crypto::sign", sig.error().reason);
    benchmark::DoNotOptimize(sig->data());
  }
}

BENCHMARK(BM_RawRsa2048Sign)->Name("Raw/RSA2048Sign")->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RawEd25519Sign)->Name("Raw/Ed25519Sign")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_CryptoSign, rsa, true)->Name("Crypto/RSA2048SignDigest")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_CryptoSign, ed, false)->Name("Crypto/Ed25519SignDigest")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Sign, rsa4k, true, false)->Name("Sign/rsa2048/4KiB")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Sign, rsa100k, true, true)->Name("Sign/rsa2048/100KiB")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Sign, ed4k, false, false)->Name("Sign/ed25519/4KiB")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Sign, ed100k, false, true)->Name("Sign/ed25519/100KiB")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Verify, rsa4k, true, false)->Name("Verify/rsa2048/4KiB")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Verify, rsa100k, true, true)->Name("Verify/rsa2048/100KiB")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Verify, ed4k, false, false)->Name("Verify/ed25519/4KiB")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Verify, ed100k, false, true)->Name("Verify/ed25519/100KiB")
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
