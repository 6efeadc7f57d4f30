/* Whole-file reads with a size cap, and atomic writes (temporary file + rename). */
#ifndef PACT_FILE_UTIL_H
#define PACT_FILE_UTIL_H

#include "../internal.h"

/* Reads all of `path` (at most max_size bytes; a regular file or a pipe)
 * into a new NUL-terminated buffer. out *data (free with free()), *size.
 * PACT_EIO (cannot open, a directory or device) / PACT_EFORMAT (too large),
 * with the file named in the message. */
pact_status pact_read_file(const char *path, size_t max_size, char **data, size_t *size,
                           pact_error *err);

/* Writes data to a temporary file beside `path`, flushes it to disk and
 * renames it over `path`; on any failure nothing is left behind. */
pact_status pact_write_file_atomic(const char *path, const void *data, size_t size,
                                   pact_error *err);

#endif
