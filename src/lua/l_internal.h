/* l_internal: helpers shared by the binding's files (not installed). */
#ifndef QS_LUA_L_INTERNAL_H
#define QS_LUA_L_INTERNAL_H

#include <lua.h>

#include "engine/qs_engine.h"

#define QL_TENSOR "qscope.tensor"
#define QL_QUANT "qscope.quant"

/* Push a new tensor userdata holding NULL (metatable set); store the
 * engine object in the returned slot afterwards. */
qs_tensor **ql_newtensor(lua_State *L);
/* The tensor at idx, raising a bad-argument error otherwise. */
qs_tensor *ql_checktensor(lua_State *L, int idx);
/* The tensor at idx or NULL when it is not one. */
qs_tensor *ql_totensor(lua_State *L, int idx);
/* Push fail + "message" (the io library's convention). */
int ql_pushfail(lua_State *L, const char *msg);
/* Push a Lua list of the shape. */
void ql_pushshape(lua_State *L, int ndim, const int64_t *shape);

void ql_open_tensor(lua_State *L); /* metatable; fields into table at -1 */
void ql_open_quant(lua_State *L);
void ql_open_files(lua_State *L); /* qs.list, qs.save_tensors */
/* qs.load for every file format, with a tensor name and a part. */
int ql_load_file(lua_State *L);
void ql_open_matmul(lua_State *L); /* qs.matmul, qs.int_matmul, ... */

#endif
