/* Placeholder: the sim backend is not yet written. */
#include "backend.h"

const struct backend_ops backend_sim_ops = { .name = "sim" };
