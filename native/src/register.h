/* Each source file adds its bindings to the module's exports; false = exception pending. */
#ifndef BRIG_REGISTER_H
#define BRIG_REGISTER_H

#include <node_api.h>
#include <stdbool.h>

bool register_fs(napi_env env, napi_value exports);
bool register_xattr(napi_env env, napi_value exports);
bool register_sock(napi_env env, napi_value exports);
bool register_poller(napi_env env, napi_value exports);
bool register_constants(napi_env env, napi_value exports);
bool register_mount(napi_env env, napi_value exports);
bool register_netns(napi_env env, napi_value exports);

#endif
