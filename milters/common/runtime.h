// inkan::milter — the runtime every inkan milter daemon runs in (protocol engine + process).
//
// run_milter() is the whole `main` of a daemon:
//   1. command line (cmdline.h); -V, --help;
//   2. configuration: -x/-c FILE or the first existing default; YAML or legacy detected
//      (settings.h); a bad one prints "<prog>: FILE: configuration error at line N: ..." and
//      exits 78; -n stops here with 0;
//   3. socket (auth::net::parse_socket_spec; the native engine, engine.h, or libmilter's
//      smfi_setconn/smfi_opensocket with INKAN_MILTER_ENGINE=libmilter; a stale UNIX socket
//      is replaced) bound with UMask, chowned to UserID; every accepted TCP connection gets
//      TCP_NODELAY (tcp_nodelay.h);
//   4. fork into the background unless -f or Background=false; PidFile written by the child;
//   5. privileges dropped to UserID; metrics endpoint started; MilterApp::start();
//   6. the engine (or smfi_main()) on its own thread; the main thread waits for signals:
//        SIGHUP, SIGUSR1   reload (configuration, tables, keys); a bad new configuration is
//                          logged and the running one kept (DESIGN.md);
//        SIGTERM, SIGINT   graceful stop: in-flight messages finish (bounded by
//                          graceful_stop_timeout; new ones get the default action), then
//                          PidFile removed, exit 0.
// SIGHUP reloads, as opendmarc develop does (anchor-features.md §1.3/§8): the predecessors'
// releases stop on SIGHUP only because libmilter's signal thread does; inkan takes SIGHUP
// away from it (see runtime.cpp) so both Debian's `kill -USR1` and the common `kill -HUP`
// reload.
#pragma once

#include "common/app.h"

namespace inkan::milter {

/// Runs the daemon. Returns an exit code for start-up failures; after a graceful stop the
/// process exits with 0 from inside (libmilter's connection threads may still exist).
int run_milter(MilterApp& app, int argc, char** argv);

}  // namespace inkan::milter
