# cmake --install build --prefix P: the mxlab executable, libmxlab.so / libmxlab.a, the public
# headers under P/include/mxlab/, the CMake package (find_package(mxlab 0.1 CONFIG) ->
# mxlab::mxlab, mxlab::mxlab_static) and P/lib/pkgconfig/mxlab.pc. Included once, from
# tools/capi/CMakeLists.txt (where the libraries are defined).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

if(TARGET mxlab)
  install(TARGETS mxlab RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
install(TARGETS mxlab_shared mxlab_static EXPORT mxlabTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})

# The headers of what libmxlab holds: formats/ and the numeric core of emulator/ (the folders'
# own headers, not the io/ subfolder: mx::io is not part of libmxlab).
file(GLOB _mx_format_headers ${PROJECT_SOURCE_DIR}/formats/*.hpp)
file(GLOB _mx_emulator_headers ${PROJECT_SOURCE_DIR}/emulator/*.hpp)
set(_mx_incdir ${CMAKE_INSTALL_INCLUDEDIR}/mxlab)
install(FILES ${_mx_format_headers} DESTINATION ${_mx_incdir}/formats)
install(FILES ${_mx_emulator_headers} DESTINATION ${_mx_incdir}/emulator)
install(FILES ${PROJECT_SOURCE_DIR}/tools/capi/include/mxlab/mxlab.h DESTINATION ${_mx_incdir})

set(_mx_cmakedir ${CMAKE_INSTALL_LIBDIR}/cmake/mxlab)
install(EXPORT mxlabTargets NAMESPACE mxlab:: FILE mxlab-targets.cmake
        DESTINATION ${_mx_cmakedir})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/mxlab-config.cmake.in
                              ${PROJECT_BINARY_DIR}/mxlab-config.cmake
                              INSTALL_DESTINATION ${_mx_cmakedir})
# 0.x: a new minor version may change the API, so only the same minor version is compatible.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/mxlab-config-version.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/mxlab-config.cmake
              ${PROJECT_BINARY_DIR}/mxlab-config-version.cmake DESTINATION ${_mx_cmakedir})

# pkg-config: relocatable (prefix from the .pc file's own location).
file(RELATIVE_PATH _mx_pc_up "/r/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/r")
set(MX_PC_PREFIX "\${pcfiledir}/${_mx_pc_up}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/mxlab.pc.in ${PROJECT_BINARY_DIR}/mxlab.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/mxlab.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
