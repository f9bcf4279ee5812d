// inkan::milterclient — the MTA side of the milter protocol (version 6), spoken directly on
// the socket, for the daemons' integration tests and the benchmark load generator.
//
// Wire format (libmilter mfdef.h, Postfix milter8.c): every packet is a 4-byte big-endian
// length (command byte + data) then the command byte and its data. The client sends
// OPTNEG, MACRO, CONNECT, HELO, MAIL, RCPT, DATA, HEADER, EOH, BODY, BODYEOB, ABORT, QUIT;
// it reads the filter's replies (CONTINUE, ACCEPT, REJECT, TEMPFAIL, DISCARD, REPLYCODE, SKIP,
// and at end of message ADDHEADER, INSHEADER, CHGHEADER, REPLBODY, ADDRCPT, DELRCPT, CHGFROM,
// QUARANTINE, PROGRESS) and records them. Like Postfix, it does not send steps the filter
// declined at negotiation and does not wait for replies the filter said it will not send.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/core/result.h"
#include "milterclient/message.h"

namespace inkan::milterclient {

/// Protocol constants (libmilter mfdef.h), repeated so the client needs no libmilter.
namespace wire {
inline constexpr std::uint32_t kProtocolVersion = 6;
inline constexpr std::size_t kMaxChunk = 65535;          // MILTER_CHUNK_SIZE
inline constexpr std::size_t kMaxReplyPacket = 1 << 24;  // local bound on one reply packet
inline constexpr std::uint32_t kAllActions = 0x1FF;      // SMFI_CURR_ACTS
inline constexpr std::uint32_t kAllProtocol = 0x1FFFFF;  // SMFI_CURR_PROT: every step optional
// Protocol bits
inline constexpr std::uint32_t kNoConnect = 0x1, kNoHelo = 0x2, kNoMail = 0x4, kNoRcpt = 0x8, kNoBody = 0x10,
                               kNoHeaders = 0x20, kNoEoh = 0x40, kNrHeader = 0x80, kNoUnknown = 0x100,
                               kNoData = 0x200, kSkip = 0x400, kRcptRej = 0x800, kNrConnect = 0x1000,
                               kNrHelo = 0x2000, kNrMail = 0x4000, kNrRcpt = 0x8000, kNrData = 0x10000,
                               kNrUnknown = 0x20000, kNrEoh = 0x40000, kNrBody = 0x80000,
                               kHeaderLeadingSpace = 0x100000;
}  // namespace wire

/// Where macros are sent: the command they precede (SMFIC_MACRO's first byte).
enum class MacroStage : char {
  Connect = 'C', Helo = 'H', Mail = 'M', Rcpt = 'R', Data = 'T', Header = 'L', Eoh = 'N', Eom = 'E',
};
/// "connect"/"C", "helo"/"H", "mail"/"M", "rcpt"/"R", "data"/"T", "header"/"L", "eoh"/"N", "eom"/"E".
std::optional<MacroStage> parse_macro_stage(std::string_view s) noexcept;

struct Macro {
  MacroStage stage = MacroStage::Connect;
  std::string name;  ///< "j", "{daemon_name}" (sent as written)
  std::string value;
};

/// Parses "STAGE:NAME=VALUE" ("mail:{auth_authen}=alice", "C:j=mx.example.net").
auth::Result<Macro> parse_macro_arg(std::string_view arg);

/// One reply the filter gave to a step.
struct Response {
  char code = 0;      ///< 'c' continue, 'a' accept, 'r' reject, 't' tempfail, 'd' discard, 'y' replycode,
                      ///< 's' skip; 0 = no reply expected (NR_* negotiated, or step not sent)
  std::string reply;  ///< for 'y': "550 5.7.1 text"
  bool sent = true;   ///< false when the filter declined the step, so nothing was sent

  bool is_continue() const noexcept { return code == 'c' || code == 0 || code == 's'; }
  /// "continue", "accept", "reject", "tempfail", "discard", "replycode 550 ...", "skip", "noreply".
  std::string describe() const;
};

/// The negotiated options.
struct Negotiation {
  std::uint32_t version = 0;
  std::uint32_t actions = 0;   ///< filter's SMFIF_* flags
  std::uint32_t protocol = 0;  ///< filter's SMFIP_* bits
  bool wants(std::uint32_t no_bit) const noexcept { return (protocol & no_bit) == 0; }
  bool leading_space() const noexcept { return (protocol & wire::kHeaderLeadingSpace) != 0; }
};

/// A whole transaction to replay.
struct Transaction {
  std::string client_host = "localhost";
  std::string client_addr = "127.0.0.1";  ///< IPv4, IPv6 or a unix path (family chosen from it)
  std::uint16_t client_port = 40000;
  std::string helo = "client.example.net";
  std::string mail_from = "<sender@example.net>";
  std::vector<std::string> rcpts = {"<rcpt@example.org>"};
  std::vector<Macro> macros;
  Message message;
  std::size_t chunk_size = wire::kMaxChunk;
};

/// What happened to it.
struct TransactionResult {
  Negotiation negotiation;
  std::vector<std::pair<std::string, Response>> steps;  ///< ("connect", resp), ("rcpt <a>", ...)
  std::vector<Modification> modifications;
  Response final;         ///< the deciding reply (EOM, or the step that ended the message)
  std::string ended_at;   ///< the step name that produced `final`
  Message result;         ///< the message with header/body modifications applied
};

class Client {
 public:
  Client() = default;
  ~Client();
  Client(Client&& o) noexcept;
  Client& operator=(Client&& o) noexcept;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// Connects to a socket spec in libmilter or Postfix form ("inet:8891@localhost",
  /// "inet:127.0.0.1:8891", "unix:/path"). `timeout` bounds every read and write.
  static auth::Result<Client> connect(std::string_view spec,
                                      std::chrono::milliseconds timeout = std::chrono::seconds(10));

  /// SMFIC_OPTNEG. Offers `actions`/`protocol` (default: everything, like Postfix).
  auth::Result<Negotiation> negotiate(std::uint32_t actions = wire::kAllActions,
                                      std::uint32_t protocol = wire::kAllProtocol,
                                      std::uint32_t version = wire::kProtocolVersion);
  const Negotiation& negotiation() const noexcept { return neg_; }

  /// SMFIC_MACRO for a stage: name/value pairs.
  auth::Result<void> macros(MacroStage stage, const std::vector<std::pair<std::string, std::string>>& nv);

  auth::Result<Response> connect_info(std::string_view hostname, std::string_view addr, std::uint16_t port);
  auth::Result<Response> helo(std::string_view name);
  auth::Result<Response> mail(const std::vector<std::string>& args);
  auth::Result<Response> rcpt(const std::vector<std::string>& args);
  auth::Result<Response> data();
  /// `value` as the MTA sends it (LF folding; with its leading space only under HDR_LEADSPC).
  auth::Result<Response> header(std::string_view name, std::string_view value);
  auth::Result<Response> eoh();
  /// One BODY packet (at most 65535 bytes).
  auth::Result<Response> body(std::string_view chunk);
  /// SMFIC_BODYEOB; collects modifications until the final reply.
  auth::Result<Response> end_of_message(std::vector<Modification>& mods, std::string_view last_chunk = {});
  /// SMFIC_ABORT (no reply).
  auth::Result<void> abort();
  /// SMFIC_QUIT (no reply); the connection is closed afterwards.
  auth::Result<void> quit();

  /// Sends arbitrary bytes (for robustness tests).
  auth::Result<void> send_raw(std::string_view bytes);
  /// Sends one packet with any command byte.
  auth::Result<void> send_packet(char cmd, std::string_view data);
  /// Reads one reply packet: (command, data). Errors: Io on EOF/timeout, LimitExceeded.
  auth::Result<std::pair<char, std::string>> read_packet();
  /// Closes the socket abruptly.
  void close() noexcept;
  bool is_open() const noexcept { return fd_ >= 0; }

 private:
  explicit Client(int fd) : fd_(fd) {}
  auth::Result<Response> step(char cmd, std::string_view data, std::uint32_t no_bit, std::uint32_t nr_bit);
  auth::Result<Response> read_response();
  int fd_ = -1;
  Negotiation neg_;
};

/// Runs a whole transaction on a fresh connection: negotiate, macros, connect, helo, mail,
/// rcpts, data, headers, eoh, body chunks, eom, quit — stopping like an MTA when a step
/// ends the message. Errors: connection or protocol failures.
auth::Result<TransactionResult> run_transaction(std::string_view spec, const Transaction& t,
                                                std::chrono::milliseconds timeout = std::chrono::seconds(10));

/// Runs a transaction over an already negotiated client (for several messages per
/// connection: call with connect_phase = false after the first). Does not quit.
auth::Result<TransactionResult> run_on(Client& c, const Transaction& t, bool connect_phase);

}  // namespace inkan::milterclient
