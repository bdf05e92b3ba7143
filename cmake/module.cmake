# infernet_module(<dir-name> [DEPS libs...] [TEST_DEPS libs...])
# Globs the current directory: *.cc except tests → library infernet_<dir-name>; *_test.cc →
# <dir-name>_test (label unit); *_slow_test.cc → <dir-name>_slow_test (label slow).
function(infernet_module name)
  cmake_parse_arguments(M "" "" "DEPS;TEST_DEPS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  file(GLOB tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_test.cc)
  file(GLOB slow_tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_slow_test.cc)
  list(REMOVE_ITEM sources ${tests})
  list(REMOVE_ITEM tests ${slow_tests})
  add_library(infernet_${name} STATIC ${sources})
  target_include_directories(infernet_${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(infernet_${name} PUBLIC ${M_DEPS} PRIVATE infernet_flags)
  if(tests)
    infernet_test(${name}_test SOURCES ${tests} LIBS infernet_${name} ${M_TEST_DEPS} GTest::gmock
                  LABELS unit)
  endif()
  if(slow_tests)
    infernet_test(${name}_slow_test SOURCES ${slow_tests} LIBS infernet_${name} ${M_TEST_DEPS}
                  GTest::gmock LABELS slow)
  endif()
endfunction()
