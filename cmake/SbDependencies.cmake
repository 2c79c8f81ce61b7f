# Required dependencies of stagebench, each with a message that names the
# Debian package to install when it is missing.

find_package(MPI COMPONENTS C)
if(NOT MPI_C_FOUND)
  message(FATAL_ERROR "MPI (C) not found. On Debian: apt-get install mpich libmpich-dev")
endif()

set(HDF5_PREFER_PARALLEL TRUE)
find_package(HDF5 COMPONENTS C)
if(NOT HDF5_FOUND)
  message(FATAL_ERROR "HDF5 not found. On Debian: apt-get install libhdf5-mpich-dev")
endif()
if(NOT HDF5_IS_PARALLEL)
  message(FATAL_ERROR "HDF5 found at ${HDF5_INCLUDE_DIRS} is not the parallel build. "
                      "On Debian: apt-get install libhdf5-mpich-dev")
endif()
if(NOT TARGET hdf5::hdf5)
  add_library(hdf5::hdf5 INTERFACE IMPORTED)
  set_target_properties(hdf5::hdf5 PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${HDF5_C_INCLUDE_DIRS}"
    INTERFACE_LINK_LIBRARIES "${HDF5_C_LIBRARIES}"
    INTERFACE_COMPILE_DEFINITIONS "${HDF5_C_DEFINITIONS}")
endif()

find_package(PkgConfig)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(HIREDIS IMPORTED_TARGET hiredis)
endif()
if(HIREDIS_FOUND)
  add_library(sb::hiredis ALIAS PkgConfig::HIREDIS)
else()
  find_path(HIREDIS_INCLUDE_DIR hiredis/hiredis.h)
  find_library(HIREDIS_LIBRARY hiredis)
  if(NOT HIREDIS_INCLUDE_DIR OR NOT HIREDIS_LIBRARY)
    message(FATAL_ERROR "hiredis not found. On Debian: apt-get install libhiredis-dev")
  endif()
  add_library(sb::hiredis INTERFACE IMPORTED)
  set_target_properties(sb::hiredis PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${HIREDIS_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "${HIREDIS_LIBRARY}")
endif()

set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)

# jansson parses the JSON header of safetensors model files.
if(PKG_CONFIG_FOUND)
  pkg_check_modules(JANSSON IMPORTED_TARGET jansson)
endif()
if(NOT JANSSON_FOUND)
  message(FATAL_ERROR "jansson not found. On Debian: apt-get install libjansson-dev")
endif()
add_library(sb::jansson ALIAS PkgConfig::JANSSON)

# OpenMP threads inside the kernels (INTRA_OP_PARALLELISM). GCC's libgomp
# comes with the compiler.
find_package(OpenMP REQUIRED COMPONENTS C)
