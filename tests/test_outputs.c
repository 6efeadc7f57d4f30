#include "testutil.h"
int main(void) { return pact_test_done("test_outputs", 0); }
