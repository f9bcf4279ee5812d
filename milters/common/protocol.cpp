#include "common/protocol.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstring>

namespace inkan::milter {

Negotiated negotiate(unsigned long offered_actions, unsigned long offered_protocol,
                     const Needs& n) noexcept {
  Negotiated r;

  /* Actions: ask for what we use; the MTA must offer it. */
  struct Want {
    bool need;
    unsigned long flag;
    const char* name;
  };
  const Want wants[] = {
      {n.add_headers, flags::kAddHeaders, "ADDHDRS"},
      {n.change_headers, flags::kChangeHeaders, "CHGHDRS"},
      {n.quarantine, flags::kQuarantine, "QUARANTINE"},
      {n.change_body, flags::kChangeBody, "CHGBODY"},
  };
  for (const auto& w : wants) {
    if (!w.need) continue;
    if ((offered_actions & w.flag) != 0) {
      r.actions |= w.flag;
    } else {
      r.ok = false;
      if (!r.missing.empty()) r.missing += ",";
      r.missing += w.name;
    }
  }
  /* Optional actions: asked for when offered. */
  if (n.add_rcpt && (offered_actions & flags::kAddRcpt) != 0) r.actions |= flags::kAddRcpt;
  if (n.delete_rcpt && (offered_actions & flags::kDeleteRcpt) != 0) r.actions |= flags::kDeleteRcpt;

  /* Steps: decline those we do not need, when the MTA can leave them out. */
  struct Step {
    bool need;
    unsigned long no_bit;
  };
  const Step step_list[] = {
      {n.connect, steps::kNoConnect}, {n.helo, steps::kNoHelo},   {n.envfrom, steps::kNoMail},
      {n.envrcpt, steps::kNoRcpt},    {n.body, steps::kNoBody},   {n.headers, steps::kNoHeaders},
      {n.eoh, steps::kNoEoh},         {n.unknown, steps::kNoUnknown}, {n.data, steps::kNoData},
  };
  for (const auto& s : step_list) {
    if (!s.need && (offered_protocol & s.no_bit) != 0) r.protocol |= s.no_bit;
  }

  /* Features. */
  if (n.header_leading_space && (offered_protocol & steps::kHeaderLeadingSpace) != 0) {
    r.protocol |= steps::kHeaderLeadingSpace;
    r.header_leading_space = true;
  }
  if (n.skip && (offered_protocol & steps::kSkip) != 0) {
    r.protocol |= steps::kSkip;
    r.skip = true;
  }
  /* No-reply steps, only for steps we are sent at all. */
  const Step no_reply[] = {
      {n.no_reply_header && n.headers, steps::kNoReplyHeader},
      {n.no_reply_eoh && n.eoh, steps::kNoReplyEoh},
      {n.no_reply_body && n.body, steps::kNoReplyBody},
      {n.no_reply_connect && n.connect, steps::kNoReplyConnect},
      {n.no_reply_mail && n.envfrom, steps::kNoReplyMail},
      {n.no_reply_rcpt && n.envrcpt, steps::kNoReplyRcpt},
  };
  for (const auto& s : no_reply) {
    if (s.need && (offered_protocol & s.no_bit) != 0) r.no_reply |= s.no_bit;
  }
  r.protocol |= r.no_reply;
  return r;
}

std::string_view macro_base_name(std::string_view name) noexcept {
  if (name.size() >= 2 && name.front() == '{' && name.back() == '}') {
    return name.substr(1, name.size() - 2);
  }
  return name;
}

std::string macro_lookup_name(std::string_view name) {
  std::string_view base = macro_base_name(name);
  if (base.size() == 1) return std::string(base);
  return "{" + std::string(base) + "}";
}

PeerAddress peer_from_sockaddr(const sockaddr* sa) noexcept {
  PeerAddress p;
  if (sa == nullptr) return p;
  char buf[INET6_ADDRSTRLEN] = {};
  switch (sa->sa_family) {
    case AF_INET: {
      sockaddr_in sin;
      std::memcpy(&sin, sa, sizeof sin);
      if (inet_ntop(AF_INET, &sin.sin_addr, buf, sizeof buf) == nullptr) return p;
      p.family = PeerAddress::Family::Inet;
      p.address = buf;
      p.port = ntohs(sin.sin_port);
      break;
    }
    case AF_INET6: {
      sockaddr_in6 sin6;
      std::memcpy(&sin6, sa, sizeof sin6);
      if (inet_ntop(AF_INET6, &sin6.sin6_addr, buf, sizeof buf) == nullptr) return p;
      p.family = PeerAddress::Family::Inet6;
      p.address = buf;
      p.port = ntohs(sin6.sin6_port);
      break;
    }
    case AF_UNIX: {
      // libmilter copies the MTA's path into a sockaddr_un; it may lack a terminator.
      const auto* sun = reinterpret_cast<const sockaddr_un*>(sa);
      p.family = PeerAddress::Family::Unix;
      p.address.assign(sun->sun_path, strnlen(sun->sun_path, sizeof sun->sun_path));
      break;
    }
    default: break;
  }
  return p;
}

}  // namespace inkan::milter
