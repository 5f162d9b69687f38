# Slims the installed libraries (run at install time by CMakeLists.txt when
# WSPROTO_INSTALL_STRIP is ON).
#
#   shared: `strip --strip-unneeded` keeps the dynamic symbol table (exactly
#           the ws_* exports) and drops debug information and local symbols.
#   static: the archive's objects (wsproto and the parts of the Rust standard
#           library it uses) are linked into one relocatable object
#           (`ld -r`) in which every global symbol except ws_* is made local
#           (`objcopy --keep-global-symbol`), without debug information or
#           the LLVM bitcode rustc embeds (.llvmbc/.llvmcmd). A program can
#           then link wsproto next to other Rust static libraries without
#           duplicate-symbol clashes; `-Wl,--gc-sections` drops what it does
#           not use.
#
# Each step falls back to plain `strip --strip-debug` when a tool is missing.
function(wsproto_strip strip objcopy linker ar shared static)
  if(NOT strip)
    message(STATUS "wsproto: no strip program; installed libraries keep their debug information")
    return()
  endif()
  execute_process(COMMAND "${strip}" --strip-unneeded "${shared}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "wsproto: strip ${shared} failed")
  endif()

  if(objcopy AND linker AND ar)
    get_filename_component(dir "${static}" DIRECTORY)
    set(tmp "${dir}/.wsproto-strip")
    file(MAKE_DIRECTORY "${tmp}")
    set(obj "${tmp}/wsproto.o")
    execute_process(COMMAND "${linker}" -r --whole-archive "${static}" -o "${obj}" RESULT_VARIABLE rc)
    if(rc EQUAL 0)
      execute_process(COMMAND "${objcopy}" --strip-debug --remove-section=.llvmbc --remove-section=.llvmcmd
        --wildcard "--keep-global-symbol=ws_*" "${obj}" RESULT_VARIABLE rc)
    endif()
    if(rc EQUAL 0)
      file(REMOVE "${static}")
      execute_process(COMMAND "${ar}" rcs "${static}" wsproto.o WORKING_DIRECTORY "${tmp}" RESULT_VARIABLE rc)
    endif()
    file(REMOVE_RECURSE "${tmp}")
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "wsproto: making ${static} a single object with only ws_* global failed")
    endif()
  else()
    execute_process(COMMAND "${strip}" --strip-debug "${static}" RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "wsproto: strip --strip-debug ${static} failed")
    endif()
  endif()
  message(STATUS "wsproto: stripped ${shared} and ${static}")
endfunction()
