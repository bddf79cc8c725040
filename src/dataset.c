/* Placeholder: not yet written. */
