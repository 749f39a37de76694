rockspec_format = "3.0"
package = "dynamo"
version = "scm-1"
source = {
  url = "git+file://.",
}
description = {
  summary = "A DynamoDB client for Lua with a C core",
  detailed = [[
Every DynamoDB operation, exact numbers, AWS Signature V4 and HTTP over
libcurl in C, and a Lua API that returns result or nil, err.
]],
  license = "MIT",
}
dependencies = {
  "lua >= 5.4",
}
-- libcurl and OpenSSL 3 are found by CMake through pkg-config (Debian puts
-- their headers in multiarch directories LuaRocks does not search).
build = {
  type = "cmake",
  variables = {
    CMAKE_BUILD_TYPE = "Release",
    CMAKE_INSTALL_PREFIX = "$(PREFIX)",
    LUA_INCDIR = "$(LUA_INCDIR)",
    INSTALL_CMOD = "$(LIBDIR)",
    INSTALL_LMOD = "$(LUADIR)",
  },
}
