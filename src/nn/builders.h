/* Builders that turn a weights file into a layer graph. Internal. */
#ifndef PACT_NN_BUILDERS_H
#define PACT_NN_BUILDERS_H

#include "graph.h"
#include "../io/safetensors.h"

/* CIFAR ResNet-(6n+2) with option-A shortcuts. Fills *g (cleared on failure)
 * and the architecture's name ("resnet20"). PACT_EFORMAT names the file and the
 * tensor at fault (missing, wrong shape or dtype, non-finite, unexpected). */
pact_status pact_resnet_build(const pact_st_file *f, const pact_net_opts *opts, pact_graph *g,
                              char *name, size_t name_size, pact_error *err);

/* "A,B,C" -> three finite numbers; 1 on success (resnet.c). */
int pact_parse_triple(const char *s, double v[3]);

#endif
