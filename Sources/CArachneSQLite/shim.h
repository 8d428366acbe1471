// SQLite (Debian's libsqlite3-dev) for the coordinator's job store.
#ifndef C_ARACHNE_SQLITE_SHIM_H
#define C_ARACHNE_SQLITE_SHIM_H
#include <sqlite3.h>
/// SQLITE_TRANSIENT is a cast macro Swift cannot import.
static inline sqlite3_destructor_type c_arachne_sqlite_transient(void) { return SQLITE_TRANSIENT; }
#endif
