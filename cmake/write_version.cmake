# Writes OUT from IN with LATDIFF_GIT_VERSION = `git describe` of SOURCE_DIR, run at every build
# (src/app/CMakeLists.txt) so that the version follows commits without a reconfigure.
# configure_file leaves OUT untouched when the text is unchanged, so nothing is recompiled then.
execute_process(
  COMMAND git describe --always --dirty --tags
  WORKING_DIRECTORY ${SOURCE_DIR}
  OUTPUT_VARIABLE LATDIFF_GIT_VERSION
  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT LATDIFF_GIT_VERSION)
  set(LATDIFF_GIT_VERSION "unknown")
endif()
configure_file(${IN} ${OUT} @ONLY)
