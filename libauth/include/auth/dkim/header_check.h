// auth::dkim header check — libopendkim's optional strict header-block check (OpenDKIM
// StrictHeaders, DKIM_LIBFLAGS_STRICTHDRS, libopendkim dkim.c dkim_headercheck()): the
// RFC 5322 §3.6 field counts that matter to DKIM. With it on, OpenDKIM neither signs nor
// verifies a message that fails the check (dkim_eoh returns DKIM_STAT_SYNTAX).
#pragma once

#include <vector>

#include "auth/core/result.h"
#include "auth/mail/header.h"

namespace auth::dkim {

/// Checks the header block the way libopendkim does with DKIM_LIBFLAGS_STRICTHDRS, in its order
/// (RFC 5322 §3.6 table: orig-date and from exactly once; sender, reply-to, to, cc, bcc,
/// message-id, in-reply-to, references and subject at most once; names case-insensitive):
///   Date absent, Date more than once, From more than once, From absent, From whose first
///   mailbox does not parse or has an empty local part or domain, then more than one of
///   Sender, Reply-To, To, Cc, Bcc, Message-ID, In-Reply-To, References, Subject.
/// Errors: ErrorCode::Syntax with libopendkim's own text as the reason, e.g.
/// "Date: header field absent", "multiple From: header fields present",
/// "From: header field cannot be parsed", "multiple Subject: header fields present".
/// Bounded: one pass over `headers` per field name checked.
Result<void> check_strict_headers(const std::vector<mail::Field>& headers);

}  // namespace auth::dkim
