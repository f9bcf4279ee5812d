// inkan-dkim Lua policy scripts — OpenDKIM's SetupPolicyScript, ScreenPolicyScript and
// FinalPolicyScript (opendkim-lua(3), opendkim 2.11). A daemon feature: linked only into
// inkan-dkim, never into libauth. No libmilter here: a hook runs against a lua::Message (what
// the script may read, callbacks for what needs the configuration, and the effects it
// records), so the hooks are unit-tested with a fake message.
//
// As in OpenDKIM, a script is compiled once (at start and on reload) and its compiled chunk
// (lua_dump) is loaded into a fresh lua_State for every run; the state gets the standard
// libraries (luaL_openlibs, as opendkim), the `odkim` table with the hook's functions, the
// constants of that hook and the global `ctx`. Unlike OpenDKIM (which crashes on a script
// error), every failure — syntax, runtime error, the instruction or memory limit — ends the
// run with RunResult::ok false and the error text; the daemon then applies On-InternalError.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "auth/core/result.h"
#include "auth/dns/resolver.h"
#include "auth/mail/header.h"

namespace inkan::dkim::lua {

/// Lua VM instructions one run may execute (local policy, not OpenDKIM: it has no limit). A
/// script that runs longer is stopped ("instruction limit exceeded") → On-InternalError.
inline constexpr std::uint64_t kMaxInstructions = 10'000'000;
/// Instructions between two checks of the limit (lua_sethook LUA_MASKCOUNT).
inline constexpr int kInstructionCheckStep = 1000;
/// Memory one run may allocate (local policy): allocations beyond it fail (LUA_ERRMEM).
inline constexpr std::size_t kMaxMemoryBytes = 64u * 1024u * 1024u;
/// Largest script file read (local policy).
inline constexpr std::size_t kMaxScriptBytes = 1024u * 1024u;
/// odkim.rbl_check lookups with a timeout of their own still waiting for the resolver, across
/// the daemon (local policy: each holds a thread until the resolver gives up); one more gets
/// nil at once.
inline constexpr int kMaxRblLookupsInFlight = 32;
/// A timeout of at least this many seconds is no shorter than the resolver's own limits: the
/// lookup then runs on the script's thread (local policy).
inline constexpr double kRblLongestTimeoutSeconds = 3600;
/// The longest DNS name in text form, and the longest label (RFC 1035 §2.3.4, §3.1).
inline constexpr std::size_t kMaxDnsNameLength = 253;
inline constexpr std::size_t kMaxDnsLabelLength = 63;
/// The header field odkim.del_rcpt adds with "rfc822;ADDRESS" (opendkim-lua(3): "adds a new
/// X-Original-Recipient: header field containing the deleted address"). opendkim 2.11 writes
/// "Original-Recipient" (its ORCPTHEADER; lab: `opendkim -t -vv`): the man page is followed.
inline constexpr std::string_view kOriginalRecipientHeader = "X-Original-Recipient";

/// The libmilter SMFIS_* values scripts see (mfapi.h), for odkim.set_result.
inline constexpr int kSmfisContinue = 0;
inline constexpr int kSmfisReject = 1;
inline constexpr int kSmfisDiscard = 2;
inline constexpr int kSmfisAccept = 3;
inline constexpr int kSmfisTempfail = 4;

/// libopendkim DKIM_SIGBH_* (odkim.sig_bhresult).
inline constexpr int kSigBhUntested = -1;
inline constexpr int kSigBhMatch = 0;
inline constexpr int kSigBhMismatch = 1;

/// libopendkim dkim.h DKIM_SIGERROR_* values (odkim.sig_result), as the final hook exports them.
enum SigError : int {
  kSigErrorUnknown = -1, kSigErrorOk = 0, kSigErrorVersion = 1, kSigErrorDomain = 2,
  kSigErrorExpired = 3, kSigErrorFuture = 4, kSigErrorTimestamps = 5, kSigErrorInvalidHc = 7,
  kSigErrorInvalidBc = 8, kSigErrorMissingA = 9, kSigErrorInvalidA = 10, kSigErrorMissingH = 11,
  kSigErrorInvalidL = 12, kSigErrorInvalidQ = 13, kSigErrorInvalidQo = 14, kSigErrorMissingD = 15,
  kSigErrorEmptyD = 16, kSigErrorMissingS = 17, kSigErrorEmptyS = 18, kSigErrorMissingB = 19,
  kSigErrorEmptyB = 20, kSigErrorCorruptB = 21, kSigErrorNoKey = 22, kSigErrorDnsSyntax = 23,
  kSigErrorKeyFail = 24, kSigErrorMissingBh = 25, kSigErrorEmptyBh = 26, kSigErrorCorruptBh = 27,
  kSigErrorBadSig = 28, kSigErrorSubdomain = 29, kSigErrorMultiReply = 30, kSigErrorEmptyH = 31,
  kSigErrorInvalidH = 32, kSigErrorTooLargeL = 33, kSigErrorMbsFailed = 34, kSigErrorKeyVersion = 35,
  kSigErrorKeyUnknownHash = 36, kSigErrorKeyHashMismatch = 37, kSigErrorNotEmailKey = 38,
  kSigErrorKeyTypeMissing = 40, kSigErrorKeyTypeUnknown = 41, kSigErrorKeyRevoked = 42,
  kSigErrorKeyDecode = 43, kSigErrorMissingV = 44, kSigErrorEmptyV = 45, kSigErrorKeyTooSmall = 46,
};

/// The three hooks inkan runs (StatisticsPolicyScript is not: statistics are not implemented).
enum class Hook { Setup, Screen, Final };
/// OpenDKIM's name of the hook function, for the log line: "dkimf_lua_setup_hook" ...
const char* hook_function_name(Hook h) noexcept;

/// A compiled script: the chunk as lua_dump wrote it.
class Script {
 public:
  /// Compiles `source`; `chunkname` names it in error messages (the path). Errors: Syntax with
  /// Lua's message ("setup.lua:3: 'end' expected near <eof>"), LimitExceeded past
  /// kMaxScriptBytes.
  static auth::Result<std::shared_ptr<const Script>> compile(std::string_view source, std::string chunkname);
  /// Reads and compiles a file. Errors: NotFound/Io with the path, or those of compile().
  static auth::Result<std::shared_ptr<const Script>> load_file(const std::string& path);

  const std::string& name() const noexcept { return name_; }
  const std::string& chunk() const noexcept { return chunk_; }

 private:
  std::string name_;
  std::string chunk_;
};

/// One signature as the screen and final hooks see it (a "signature handle").
struct SigView {
  std::optional<std::string> domain;    ///< d= (nil when the field did not parse)
  std::optional<std::string> identity;  ///< i=, or "@" + d=
  int error = kSigErrorUnknown;         ///< DKIM_SIGERROR_* (final hook)
  int bh = kSigBhUntested;              ///< DKIM_SIGBH_* (final hook)
  std::optional<std::int64_t> body_length;   ///< canonical body length (final hook)
  std::optional<std::int64_t> canon_length;  ///< canonical bytes the signature covers
  bool ignored = false;                 ///< set by odkim.sig_ignore (screen hook)
};

/// odkim.sign(ctx[, keyname[, signer[, signlen]]]) as the daemon receives it.
struct SignCall {
  std::optional<std::string> key;  ///< KeyTable name; nullopt = the single key
  std::string signer;              ///< i= ("" = none)
  std::optional<std::int64_t> length;  ///< l= bytes
};

/// A value passed between hooks by odkim.export (nil, number, boolean or string).
struct Exported {
  enum class Type { Nil, Number, Boolean, String };
  std::string name;
  Type type = Type::Nil;
  double number = 0;
  bool boolean = false;
  std::string text;
};

/// The reply odkim.set_reply asked for.
struct Reply {
  std::string rcode, xcode, text;
};

/// Thrown by a Message callback to raise a Lua error with `what()` as its message.
struct ScriptError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Everything a hook reads and the effects it records. The daemon fills the inputs, runs the
/// hook and applies the effects; a test fills it by hand.
struct Message {
  /* ---- inputs ---- */
  /// The header block (odkim.get_header reads it; odkim.replace_header changes it).
  std::vector<auth::mail::Field>* headers = nullptr;
  std::string from_domain;   ///< odkim.get_fromdomain
  std::string client_host;   ///< odkim.get_clienthost
  std::optional<std::string> client_ip;  ///< odkim.get_clientip
  std::string envfrom;       ///< odkim.get_envfrom
  std::vector<std::string> rcpts;  ///< odkim.get_rcpt / get_rcptarray / rcpt_count
  bool internal_ip = false;  ///< odkim.internal_ip (InternalHosts only)
  bool key_table = false;    ///< a KeyTable is configured (odkim.sign with a key name needs it)
  std::vector<SigView> signatures;  ///< screen and final hooks
  std::function<std::optional<std::string>(std::string_view)> macro;  ///< odkim.get_mtasymbol
  std::function<void(std::string_view)> log;                           ///< odkim.log
  /// odkim.sign: returns 1 when the request was added, 0 when the key is unknown or does not
  /// load (the daemon logs why); throws ScriptError for a script mistake.
  std::function<int(const SignCall&)> sign;
  /// odkim.signfor(address, multi): applies the SigningTable; returns the signatures added.
  std::function<std::size_t(std::string_view address, bool multi)> signfor;
  /// odkim.get_dbhandle: the entries of a configured data set (DB_* code), nullopt = not set.
  std::function<std::optional<std::vector<std::string>>(int)> db_entries;
  /// The signatures requested for this message so far (SigningTable, odkim.sign,
  /// odkim.signfor): odkim.xtag's answer depends on it. Unset = none.
  std::function<std::size_t()> sign_requests;
  /// odkim.add_rcpt (final hook): asks the MTA at once to add the address as given
  /// (SMFIR_ADDRCPT), as opendkim's smfi_addrcpt call does. False when refused (the MTA did not
  /// grant SMFIF_ADDRCPT, a bad address): the script gets nil. Unset = refused.
  std::function<bool(std::string_view)> add_rcpt;
  /// odkim.del_rcpt (final hook): removes a recipient of `rcpts` (as stored there) at once
  /// (SMFIR_DELRCPT) and adds kOriginalRecipientHeader "rfc822;ADDRESS". False when refused
  /// (SMFIF_DELRCPT not granted): the script gets nil. Unset = refused.
  std::function<bool(std::string_view)> del_rcpt;
  /// The resolver odkim.rbl_check asks (the daemon's, the one DKIM keys come from); null =
  /// no DNS: rbl_check answers nil.
  std::shared_ptr<auth::dns::Resolver> resolver;

  /* ---- effects ---- */
  bool verify = false;  ///< odkim.verify
  bool ltag = false;    ///< odkim.use_ltag
  std::optional<int> result;   ///< odkim.set_result (an SMFIS_* value)
  std::optional<Reply> reply;  ///< odkim.set_reply
  std::vector<std::pair<std::string, std::string>> add_headers;  ///< odkim.add_header
  std::vector<std::pair<std::string, int>> del_headers;  ///< odkim.del_header (name, 1-based index)
  std::optional<std::string> quarantine;  ///< odkim.quarantine
  /// odkim.export: set as globals in the later hooks of the same message.
  std::vector<Exported> exports;
};

/// What a run produced.
struct RunResult {
  bool ok = true;
  std::string error;  ///< Lua's message when !ok
};

/// Runs `script` as hook `hook` against `msg` in a fresh lua_State. Never throws; a Lua error,
/// a callback failure, the instruction limit or the memory limit give ok == false.
RunResult run(const Script& script, Hook hook, Message& msg, std::uint64_t max_instructions = kMaxInstructions,
              std::size_t max_memory = kMaxMemoryBytes);

/// One odkim.rbl_check lookup.
struct RblResult {
  enum class Kind {
    Listed,     ///< one A record: `address` (host order), the four octets the script gets
    NotListed,  ///< NXDOMAIN, no A record, or the resolver gave up (SERVFAIL, its own timeout)
    Error,      ///< several A records, a malformed answer or name, the script's timeout: nil
  };
  Kind kind = Kind::NotListed;
  std::uint32_t address = 0;
  std::string error;  ///< why, for Error
};

/// Looks up the A record of `name` (librbl's "query.qroot") with `resolver`. `timeout`: how
/// long the script waits (nullopt = the resolver's own timeout and tries); when it expires the
/// lookup goes on on its own thread until the resolver ends it (at most
/// kMaxRblLookupsInFlight of them) and the result is Error. Never throws.
RblResult rbl_lookup(const std::shared_ptr<auth::dns::Resolver>& resolver, const std::string& name,
                     std::optional<std::chrono::milliseconds> timeout);

/// The DB_* codes of odkim.get_dbhandle (opendkim.h).
inline constexpr int kDbDomains = 1;
inline constexpr int kDbThirdParty = 2;
inline constexpr int kDbDontSignTo = 3;
inline constexpr int kDbMtas = 4;
inline constexpr int kDbMacros = 5;
inline constexpr int kDbSigningTable = 6;

}  // namespace inkan::dkim::lua
