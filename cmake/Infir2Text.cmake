#===- Infir2Text.cmake - Text libraries of the tokenizer and data pipeline -===#
#
# PCRE2 (split patterns other than Qwen2's), utf8proc (NFC) and toml++
# (recipe files), all from Debian: libpcre2-dev, libutf8proc-dev,
# libtomlplusplus-dev (tools/test.sh installs them).
#
#===------------------------------------------------------------------------===#

find_package(PkgConfig REQUIRED)
pkg_check_modules(PCRE2 QUIET IMPORTED_TARGET libpcre2-8)
pkg_check_modules(UTF8PROC QUIET IMPORTED_TARGET libutf8proc)
find_package(tomlplusplus QUIET CONFIG)
set(_infir2_missing)
if(NOT PCRE2_FOUND)
  list(APPEND _infir2_missing libpcre2-dev)
endif()
if(NOT UTF8PROC_FOUND)
  list(APPEND _infir2_missing libutf8proc-dev)
endif()
if(NOT tomlplusplus_FOUND)
  list(APPEND _infir2_missing libtomlplusplus-dev)
endif()
if(_infir2_missing)
  string(REPLACE ";" " " _infir2_missing "${_infir2_missing}")
  message(FATAL_ERROR "infir2: missing Debian packages for the tokenizer and "
    "the data pipeline; install them with: apt-get install ${_infir2_missing} "
    "(tools/test.sh does this)")
endif()
