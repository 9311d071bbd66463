/* module: the entry point of qscope.so for require "qscope" from stock
 * lua5.4.  The module table is the same one the qscope program builds. */
#include "config.h"

#include <lua.h>

#include "lua/qs_lua.h"

int luaopen_qscope(lua_State *L);

int luaopen_qscope(lua_State *L)
{
	return qs_lua_open(L);
}
