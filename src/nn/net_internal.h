/* Internal view of a pact_net for benchmarks and tests. */
#ifndef PACT_NN_NET_INTERNAL_H
#define PACT_NN_NET_INTERNAL_H

#include "graph.h"
#include "../io/safetensors.h"

const pact_graph *pact_net_graph(const pact_net *net);
int pact_net_threads(const pact_net *net);

/* What pact_net_load does with a file once pact_st_open has read and
 * validated it: builds the net from `f`, which it takes over (closed in every
 * case). Fuzzed directly, on files from pact_st_parse. */
pact_status pact_net_from_st(pact_st_file *f, const pact_net_opts *opts, pact_net **net,
                             pact_error *err);

#endif
