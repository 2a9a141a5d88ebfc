#ifndef CSQLITECONFIG_SHIM_H
#define CSQLITECONFIG_SHIM_H
#include <sqlite3.h>

/// sqlite3_db_config is variadic, which Swift cannot call: one typed wrapper per option used.
///
/// Leaves the WAL in place when a connection closes instead of checkpointing it into the
/// database file (two fsyncs per process). The next process reads the WAL as usual; SQLite's
/// automatic checkpoint still folds it in once it grows past 1000 pages.
static inline int csqlite_no_checkpoint_on_close(sqlite3 *db) {
#ifdef SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE
    return sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)0);
#else
    (void)db;
    return SQLITE_OK;
#endif
}

#endif
