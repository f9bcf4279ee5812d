// inkan::milter — the pure half of milter protocol handling: option negotiation, macro names,
// peer addresses. No libmilter calls here, so it is unit-tested without a daemon.
//
// Negotiation (libmilter SMFIC_OPTNEG, protocol version 6): the MTA offers action flags
// (SMFIF_*) and protocol steps it can leave out (SMFIP_NO*); a filter asks only for the steps
// it uses, so Postfix does not even send the others, and requests SMFIP_HDR_LEADSPC when it
// wants header values byte-exact (anchor-features.md §1.4).
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace inkan::milter {

/// Action flags (libmilter mfapi.h SMFIF_*), repeated here so pure code needs no libmilter.
namespace flags {
inline constexpr unsigned long kAddHeaders = 0x001;   // SMFIF_ADDHDRS
inline constexpr unsigned long kChangeBody = 0x002;   // SMFIF_CHGBODY
inline constexpr unsigned long kAddRcpt = 0x004;      // SMFIF_ADDRCPT
inline constexpr unsigned long kDeleteRcpt = 0x008;   // SMFIF_DELRCPT
inline constexpr unsigned long kChangeHeaders = 0x010;  // SMFIF_CHGHDRS
inline constexpr unsigned long kQuarantine = 0x020;   // SMFIF_QUARANTINE
inline constexpr unsigned long kChangeFrom = 0x040;   // SMFIF_CHGFROM
inline constexpr unsigned long kSetSymList = 0x100;   // SMFIF_SETSYMLIST
}  // namespace flags

/// Protocol step bits (libmilter mfdef.h SMFIP_*).
namespace steps {
inline constexpr unsigned long kNoConnect = 0x00000001;
inline constexpr unsigned long kNoHelo = 0x00000002;
inline constexpr unsigned long kNoMail = 0x00000004;
inline constexpr unsigned long kNoRcpt = 0x00000008;
inline constexpr unsigned long kNoBody = 0x00000010;
inline constexpr unsigned long kNoHeaders = 0x00000020;
inline constexpr unsigned long kNoEoh = 0x00000040;
inline constexpr unsigned long kNoUnknown = 0x00000100;
inline constexpr unsigned long kNoData = 0x00000200;
inline constexpr unsigned long kSkip = 0x00000400;
inline constexpr unsigned long kRcptRejected = 0x00000800;
inline constexpr unsigned long kNoReplyHeader = 0x00000080;  // SMFIP_NR_HDR
inline constexpr unsigned long kNoReplyConnect = 0x00001000;
inline constexpr unsigned long kNoReplyHelo = 0x00002000;
inline constexpr unsigned long kNoReplyMail = 0x00004000;
inline constexpr unsigned long kNoReplyRcpt = 0x00008000;
inline constexpr unsigned long kNoReplyData = 0x00010000;
inline constexpr unsigned long kNoReplyUnknown = 0x00020000;
inline constexpr unsigned long kNoReplyEoh = 0x00040000;
inline constexpr unsigned long kNoReplyBody = 0x00080000;
inline constexpr unsigned long kHeaderLeadingSpace = 0x00100000;
}  // namespace steps

/// What a daemon needs from the MTA.
struct Needs {
  /* Actions it may take at end of message. */
  bool add_headers = false;
  bool change_headers = false;  ///< smfi_chgheader (also needed to delete a header)
  bool quarantine = false;
  bool change_body = false;
  /// Envelope recipient changes (SMFIF_ADDRCPT / SMFIF_DELRCPT). Optional, unlike the four
  /// above: requested only when the MTA offers them, and an MTA that does not is no reason to
  /// give every message the default action — MessageOps::add_recipient / delete_recipient
  /// then fail (Negotiated::actions tells which were granted).
  bool add_rcpt = false;
  bool delete_rcpt = false;
  /* Steps it wants to see; the others are negotiated away when the MTA allows. */
  bool connect = true;
  bool helo = false;
  bool envfrom = true;
  bool envrcpt = false;
  bool data = false;
  bool headers = true;
  bool eoh = true;
  bool body = true;
  bool unknown = false;
  /// Ask for header values with their leading space (SMFIP_HDR_LEADSPC).
  bool header_leading_space = false;
  /// The body callback may answer Skip (SMFIP_SKIP).
  bool skip = false;
  /* Steps the MTA need not wait for (SMFIP_NR_*, requested when offered). The MTA then
     sends the next command at once — Postfix buffers all header fields, end of header and
     the body into a few writes instead of one round trip each. A callback at such a step may
     still answer something other than Continue: the runtime holds that answer and gives it
     at the next step that has a reply (end of message at the latest), skipping the session's
     callbacks in between. Header, end-of-header and body answers are acted on by the MTA only
     at the end of the message anyway (they come in during DATA), so for those three nothing
     changes for the SMTP client; the only cost is that the MTA keeps sending the body after
     an early Accept. Envelope steps (connect, mail, rcpt) change when a refusal is visible,
     so they are opt-in for daemons whose callback there only records. With connect, mail and
     rcpt all no-reply, Postfix keeps those packets in its buffer and sends them with the
     first command that needs an answer: the daemon wakes once per message for the whole
     envelope instead of once per command. */
  bool no_reply_header = true;
  bool no_reply_eoh = true;
  bool no_reply_body = true;
  bool no_reply_connect = false;
  bool no_reply_mail = false;
  bool no_reply_rcpt = false;
};

/// The outcome of negotiation.
struct Negotiated {
  bool ok = true;                  ///< false: the MTA lacks a required action flag
  unsigned long actions = 0;       ///< flags we use, masked by what the MTA offered
  unsigned long protocol = 0;      ///< steps we decline + features we request
  bool header_leading_space = false;
  bool skip = false;
  unsigned long no_reply = 0;      ///< the SMFIP_NR_* steps requested (subset of `protocol`)
  std::string missing;             ///< when !ok: which action flags the MTA did not offer
};

/// Computes our answer to SMFIC_OPTNEG from the MTA's offer (f0 actions, f1 protocol).
/// A step we do not need is declined only if the MTA offers to leave it out; features
/// (leading space, skip) are requested only if offered. Missing *actions* we need make the
/// result !ok: the glue then answers with the default action for every message (the optional
/// recipient changes are only asked for when offered).
Negotiated negotiate(unsigned long offered_actions, unsigned long offered_protocol,
                     const Needs& needs) noexcept;

/// Strips one pair of braces: "{auth_authen}" → "auth_authen"; "i" stays "i".
std::string_view macro_base_name(std::string_view name) noexcept;
/// The form libmilter's smfi_getsymval looks up: single-letter names bare ("i", "j", "_"),
/// longer names in braces ("{daemon_name}").
std::string macro_lookup_name(std::string_view name);

/// The queue id for log prefixes: the `i` macro, or "NOQUEUE" when the MTA did not send one
/// (Postfix's own word for "no queue file yet").
inline constexpr std::string_view kNoQueueId = "NOQUEUE";

/// The peer as the MTA reported it at connect.
struct PeerAddress {
  enum class Family { Unknown, Inet, Inet6, Unix };
  Family family = Family::Unknown;
  std::string address;  ///< "192.0.2.1", "2001:db8::1" (inet_ntop form), unix path, or ""
  std::uint16_t port = 0;
  friend bool operator==(const PeerAddress&, const PeerAddress&) = default;
};

/// Turns the sockaddr libmilter passes to xxfi_connect into text. nullptr → Unknown.
/// An IPv4-mapped IPv6 address stays Inet6 (anchor-features.md §1.5 matches it as IPv6).
PeerAddress peer_from_sockaddr(const sockaddr* sa) noexcept;

}  // namespace inkan::milter
