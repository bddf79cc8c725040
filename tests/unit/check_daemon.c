#include "check_common.h"
static Suite *daemon_suite(void) { Suite *s = suite_create("daemon"); return s; }
CHECK_MAIN(daemon_suite)
