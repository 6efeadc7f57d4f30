/* Status names and error reporting. */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>

const char *pact_status_str(pact_status status)
{
    switch (status) {
    case PACT_OK: return "PACT_OK";
    case PACT_EINVAL: return "PACT_EINVAL";
    case PACT_ENOMEM: return "PACT_ENOMEM";
    case PACT_EIO: return "PACT_EIO";
    case PACT_EFORMAT: return "PACT_EFORMAT";
    case PACT_EMAXITER: return "PACT_EMAXITER";
    case PACT_ETOL: return "PACT_ETOL";
    case PACT_EUNSUPPORTED: return "PACT_EUNSUPPORTED";
    case PACT_EMISMATCH: return "PACT_EMISMATCH";
    case PACT_ENUMERIC: return "PACT_ENUMERIC";
    case PACT_ECALLBACK: return "PACT_ECALLBACK";
    }
    return "PACT_E?";
}

pact_status pact_fail(pact_error *err, pact_status status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        /* Messages quote names and values read from files: a control
         * character there (a newline, a terminal escape) must not split the
         * one-line message or reach the user's terminal. */
        for (char *c = err->message; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                *c = '?';
        err->status = status;
    }
    return status;
}

void pact_error_clear(pact_error *err)
{
    if (err) {
        err->status = PACT_OK;
        err->message[0] = '\0';
    }
}
