# adgenConfig.cmake: generate C from .expr files with adgen, in a CMake build.
#
#     find_package(adgen REQUIRED)            # CMAKE_PREFIX_PATH names adgen's prefix if needed
#     add_executable(app app.c)
#     adgen_generate(app model.expr [OPTIONS --real=float --prefix=model_ ...])
#
# adgen_generate runs adgen at build time to make model.c and model.h in the current binary
# directory (one run for both), adds them to the target with that directory on its include
# path and links the target with libm (through its LINK_LIBRARIES property, so that the
# project's own target_link_libraries calls may use either signature). The rule depends on
# model.expr and on adgen itself, and reads adgen's depfile (-MD), so editing the .expr
# regenerates and rebuilds what uses it, and a build with nothing changed runs nothing, with
# Ninja and Makefiles at any cmake_minimum_required from 3.13. ADGEN_EXECUTABLE is the adgen
# run: the one installed beside this file, else one on PATH.

get_filename_component(_adgen_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
find_program(ADGEN_EXECUTABLE adgen HINTS "${_adgen_prefix}/bin" NO_DEFAULT_PATH)
find_program(ADGEN_EXECUTABLE adgen)
find_library(ADGEN_LIBM m)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(adgen REQUIRED_VARS ADGEN_EXECUTABLE)

function(adgen_generate target expr)
    cmake_parse_arguments(PARSE_ARGV 2 ARG "" "" "OPTIONS")
    get_filename_component(source "${expr}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    get_filename_component(stem "${expr}" NAME_WE)
    set(c "${CMAKE_CURRENT_BINARY_DIR}/${stem}.c")
    set(h "${CMAKE_CURRENT_BINARY_DIR}/${stem}.h")
    set(d "${CMAKE_CURRENT_BINARY_DIR}/${stem}.adgen.d")
    # depfiles work with every generator from CMake 3.20, and with Ninja before
    set(depfile)
    if(CMAKE_VERSION VERSION_GREATER_EQUAL 3.20 OR CMAKE_GENERATOR MATCHES "Ninja")
        set(depfile DEPFILE "${d}")
    endif()
    # Ninja reads a depfile as it is unless policy CMP0116 is NEW (cmake_minimum_required 3.20
    # or later): its targets must then be the outputs as Ninja names them, relative to the top
    # binary directory, or every build runs adgen again
    set(targets)
    set(cmp0116 OLD)
    if(POLICY CMP0116)
        cmake_policy(GET CMP0116 cmp0116)
    endif()
    if(CMAKE_GENERATOR MATCHES "Ninja" AND NOT cmp0116 STREQUAL "NEW")
        foreach(out "${c}" "${h}")
            file(RELATIVE_PATH rel "${CMAKE_BINARY_DIR}" "${out}")
            list(APPEND targets -MT "${rel}")
        endforeach()
    endif()
    # Ninja looks at the outputs' times again after a custom command (restat): an output
    # that holds what adgen would write is left as it is, and nothing is compiled again
    if(CMAKE_GENERATOR MATCHES "Ninja")
        list(APPEND targets --keep-unchanged)
    endif()
    add_custom_command(
        OUTPUT "${c}" "${h}"
        COMMAND "${ADGEN_EXECUTABLE}" ${ARG_OPTIONS} -MD -MF "${d}" ${targets} -o "${c}"
                --header "${h}" "${source}"
        DEPENDS "${source}" "${ADGEN_EXECUTABLE}"
        ${depfile}
        COMMENT "adgen ${expr}"
        VERBATIM)
    target_sources(${target} PRIVATE "${c}" "${h}")
    target_include_directories(${target} PRIVATE "${CMAKE_CURRENT_BINARY_DIR}")
    if(ADGEN_LIBM)
        set_property(TARGET ${target} APPEND PROPERTY LINK_LIBRARIES "${ADGEN_LIBM}")
        get_target_property(type ${target} TYPE)
        if(type STREQUAL "STATIC_LIBRARY") # what links the library needs libm too
            set_property(TARGET ${target} APPEND PROPERTY INTERFACE_LINK_LIBRARIES
                         "$<LINK_ONLY:${ADGEN_LIBM}>")
        endif()
    endif()
endfunction()
