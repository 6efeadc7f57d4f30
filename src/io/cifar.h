/* CIFAR-10 records already in memory. Internal: what pact_cifar_load does
 * with each file it reads, exposed for the fuzzer and the regression replay. */
#ifndef PACT_IO_CIFAR_H
#define PACT_IO_CIFAR_H

#include "polyact.h"

/* A data set of the first records (at most max_images, 0 = all) of `size`
 * bytes of CIFAR-10 binary (copied); `name` stands for the file in messages.
 * out *ds: free with pact_dataset_free. PACT_EFORMAT (size not a positive
 * multiple of 3073, a label outside 0..9: record named), PACT_ENOMEM. */
pact_status pact_cifar_parse(const unsigned char *bytes, size_t size, const char *name,
                             size_t max_images, pact_dataset **ds, pact_error *err);

#endif
