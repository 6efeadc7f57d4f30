/* Internal view of a pact_net for benchmarks and tests. */
#ifndef PACT_NN_NET_INTERNAL_H
#define PACT_NN_NET_INTERNAL_H

#include "graph.h"

const pact_graph *pact_net_graph(const pact_net *net);
int pact_net_threads(const pact_net *net);

#endif
