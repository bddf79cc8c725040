/*
 * Hashed text features: the words of a text and a fixed-size vector made
 * of its hashed word unigrams, bigrams and character trigrams.  They need
 * no model and no state, so anything that wants a vector for a text gets
 * one here: the simulated world's embedder (src/sim/) and the dueling
 * strategy without an embedder role (strategies/duel.c).
 *
 * A word is a run of ASCII letters and digits with inner apostrophes
 * ("don't" is one word); everything else separates words.
 */
#ifndef TEXTFEAT_H
#define TEXTFEAT_H

#include <stddef.h>
#include <stdint.h>

/*
 * The seed of features made outside a simulated world.  It is the sim's
 * default world seed, so they equal the embeddings of a default world.
 */
#define TEXTFEAT_SEED	1

/*
 * The next word of s at or after *pos: sets *start and *len and moves
 * *pos past it.  Returns 0 (with *pos at the end) when there is none.
 */
int	 textfeat_word_next(const char *s, size_t *pos, size_t *start,
	    size_t *len);

/*
 * The features of text (any case; read as lower-case) under seed: dim
 * floats written to out (the caller's, dim > 0), L2-normalized.  The
 * same text, seed and dim always give the same vector.
 */
void	 textfeat_embed(const char *text, uint64_t seed, size_t dim,
	    float *out);

#endif
