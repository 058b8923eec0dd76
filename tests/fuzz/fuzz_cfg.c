/* fuzz_cfg.c - libFuzzer target: bytes -> tokenizer, parser, checks.
 *
 * cfg_resolve() is never called: the fuzzer must not touch DNS. Besides
 * the whole text, the first line is fed to cfg_tokenize() alone so that
 * the tokenizer's own limits get exercised without the parser in front.
 */
#include <config.h>

#include "cfg.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_msgs msgs;
	struct cfg_words words;
	struct cfg *cfg = cfg_new();
	const char *text = (const char *)data;
	const char *nl = memchr(text, '\n', size);
	const char *err = NULL;

	memset(&words, 0, sizeof(words));
	if (cfg_tokenize(text, nl ? (size_t)(nl - text) : size, &words, &err) == 0) {
		for (int i = 0; i < words.n; i++)
			if (!words.w[i])
				__builtin_trap();
		if (words.w[words.n])
			__builtin_trap();
	} else if (!err) {
		__builtin_trap();
	}
	cfg_words_free(&words);

	cfg_msgs_init(&msgs);
	cfg_parse_text(cfg, "fuzz.cfg", text, size, &msgs);
	cfg_finish(cfg, &msgs);
	for (struct cfg_msg *m = msgs.head; m; m = m->next)
		if (!m->text)
			__builtin_trap();
	cfg_msgs_free(&msgs);
	cfg_free(cfg);
	return 0;
}
