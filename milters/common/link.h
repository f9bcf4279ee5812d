// inkan::milter — the runtime's view of one MTA connection, whichever engine speaks the
// milter protocol on it: libmilter (SMFICTX, runtime.cpp) or the native engine (engine.h).
// The runtime's callbacks (runtime_steps.h) take an MtaLink and never touch the wire.
#pragma once

#include <sys/socket.h>

#include <string>
#include <vector>

namespace inkan::milter {

class MtaLink {
 public:
  virtual ~MtaLink() = default;
  /// The runtime's per-connection state (set at negotiation, cleared at close).
  virtual void* priv() = 0;
  virtual void set_priv(void* p) = 0;
  /// A macro's value by libmilter lookup name ("i", "{auth_authen}"); nullptr when unset.
  virtual const char* symval(const std::string& lookup_name) = 0;
  /// The reply text for the next REJECT/TEMPFAIL answer (rcode "550", xcode may be empty).
  virtual bool setreply(const std::string& rcode, const std::string& xcode, const std::string& text) = 0;
  /// End-of-message actions; false when refused (not negotiated, or the connection is lost).
  virtual bool quarantine(const std::string& reason) = 0;
  virtual bool addheader(const std::string& name, const std::string& value) = 0;
  virtual bool insheader(int index, const std::string& name, const std::string& value) = 0;
  /// `value` nullptr deletes the field.
  virtual bool chgheader(const std::string& name, int index, const std::string* value) = 0;
  virtual bool replacebody(const unsigned char* p, std::size_t n) = 0;
  /// SMFIR_ADDRCPT / SMFIR_DELRCPT: the address as the MTA is to take it ("a@b" or "<a@b>").
  virtual bool addrcpt(const std::string& rcpt) = 0;
  virtual bool delrcpt(const std::string& rcpt) = 0;
  virtual void progress() = 0;
};

/// The runtime's protocol steps, called by an engine for each MTA command (runtime.cpp).
/// Return values are libmilter's SMFIS_* codes (mfapi.h); every function is noexcept.
namespace step {
/// SMFIC_OPTNEG: `offered_*` from the MTA; sets what we ask for.
int negotiate(MtaLink&, unsigned long offered_actions, unsigned long offered_protocol,
              unsigned long* actions, unsigned long* protocol) noexcept;
int connect(MtaLink&, const char* hostname, const sockaddr* addr) noexcept;
int helo(MtaLink&, const char* helo) noexcept;
int envfrom(MtaLink&, const std::vector<std::string>& args) noexcept;
int envrcpt(MtaLink&, const std::vector<std::string>& args) noexcept;
int data(MtaLink&) noexcept;
int header(MtaLink&, const char* name, const char* value) noexcept;
int eoh(MtaLink&) noexcept;
int body(MtaLink&, const unsigned char* p, std::size_t n) noexcept;
int eom(MtaLink&) noexcept;
int abort(MtaLink&) noexcept;
int close(MtaLink&) noexcept;
int unknown(MtaLink&, const char* command) noexcept;
}  // namespace step

}  // namespace inkan::milter
