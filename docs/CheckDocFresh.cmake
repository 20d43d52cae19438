# cmake -DGENERATED=<built doc> -DCOMMITTED=<docs/dialects/x.md> -P CheckDocFresh.cmake
# Fails when the committed dialect doc differs from what the build generates.
if(NOT EXISTS ${COMMITTED})
  message(FATAL_ERROR "${COMMITTED} is missing; run `cmake --build build "
                      "--target infir2-update-docs` and commit it")
endif()
file(READ ${GENERATED} generated)
file(READ ${COMMITTED} committed)
if(NOT generated STREQUAL committed)
  message(FATAL_ERROR "${COMMITTED} is stale: it differs from the doc the "
                      "build generates (${GENERATED}). Run "
                      "`cmake --build build --target infir2-update-docs` and "
                      "commit the result.")
endif()
message(STATUS "${COMMITTED} matches what the build generates")
