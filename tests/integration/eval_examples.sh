#!/bin/sh
# Placeholder: not yet written.
exit 77
