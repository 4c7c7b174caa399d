// libpq for Swift (Debian: libpq-dev). Only BatonPostgres imports this module.
#ifndef BATON_CLIBPQ_SHIM_H
#define BATON_CLIBPQ_SHIM_H

#include <libpq-fe.h>

// PG_DIAG_* are character macros ('C', 'M'), which Swift imports as Int32 already;
// these twins keep the names the wrapper reads.
static const int CLIBPQ_DIAG_SQLSTATE = PG_DIAG_SQLSTATE;
static const int CLIBPQ_DIAG_MESSAGE_PRIMARY = PG_DIAG_MESSAGE_PRIMARY;

#endif
