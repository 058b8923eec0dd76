/* admin_table.c - `show table` and `clear table` on the admin socket, in
 * HAProxy 2.6's output format (a script written for HAProxy's CLI reads
 * ours):
 *
 *   # table: fe_api, type: ip, size:102400, used:2
 *   0x55d5cbd6e4b0: key=10.0.0.1 use=1 exp=29000 conn_rate(10000)=3 conn_cur=1
 */
#include <config.h>

#include "admin_int.h"

#include "gen.h"
#include "stktable.h"

#include <stdio.h>
#include <string.h>

static void table_header(struct adm_out *out, const struct stktable *t)
{
	adm_printf(out, "# table: %s, type: %s, size:%u, used:%u\n", t->name, stk_type_name(t->type),
	           t->size, atomic_load(&t->used));
}

/* Stops the walk once the answer is cut (its size is bounded). */
static int print_entry(void *arg, const struct stktable *t, const struct stk_view *v)
{
	struct adm_out *out = arg;
	char line[1024];

	stk_format_view(t, v, line, sizeof(line));
	adm_printf(out, "%s\n", line);
	return out->truncated ? 1 : 0;
}

/* The table and key a command names; NULL (with the answer written) when
 * there is none. */
static struct stktable *named_table(struct gen *gen, const struct adm_cmd *cmd,
                                    struct adm_out *out, uint8_t *key, int *has_key)
{
	struct stktable *t = gen_table_named(gen, cmd->table);

	if (!t) {
		adm_printf(out, "No such table\n");
		return NULL;
	}
	*has_key = cmd->key[0] != '\0';
	if (*has_key && !stk_key_parse(t, cmd->key, key)) {
		adm_printf(out, "Invalid key: '%s' is not an address of a type %s table\n", cmd->key,
		           stk_type_name(t->type));
		return NULL;
	}
	return t;
}

int adm_show_table(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                   struct adm_out *out)
{
	uint8_t key[STK_KEY_LEN];
	struct stktable *t;
	int has_key = 0;

	(void)app;
	if (!cmd->table[0]) {
		for (int i = 0; i < gen->ntables; i++)
			table_header(out, gen->tables[i].t);
		return 0;
	}
	if (!(t = named_table(gen, cmd, out, key, &has_key)))
		return 0;
	table_header(out, t);
	stk_walk(t, has_key ? key : NULL, gen_tables_now(), print_entry, out);
	return 0;
}

/* As HAProxy: entries in use stay (their streams hold them). */
int adm_clear_table(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                    struct adm_out *out)
{
	uint8_t key[STK_KEY_LEN];
	struct stktable *t;
	int has_key = 0;

	(void)app;
	if (!(t = named_table(gen, cmd, out, key, &has_key)))
		return 0;
	stk_clear(t, has_key ? key : NULL, gen_tables_now());
	return 0;
}
