# Packaging: `cpack -G DEB` in the build dir (`make package`) makes two Debian
# packages from the install components declared in deploy/CMakeLists.txt:
#
#   glci-collector  glci-collector, glci (CLI), the framework, the unit, man pages
#   glci-agent      glci-agent, its unit and man page
#
# Library dependencies come from dpkg-shlibdeps (dpkg-dev); maintainer scripts
# (user glci, state folders, purge) are configured into the build dir by
# deploy/CMakeLists.txt. Included right after project(): a system service
# installs under /usr unless the prefix is given, so that the paths compiled
# into the units, the man pages and the packages all agree.

if(CMAKE_INSTALL_PREFIX_INITIALIZED_TO_DEFAULT)
  set(CMAKE_INSTALL_PREFIX /usr CACHE PATH "Install prefix" FORCE)
endif()

set(CPACK_PACKAGE_NAME glci)
set(CPACK_PACKAGE_VENDOR "glci project")
set(CPACK_PACKAGE_CONTACT "glci maintainers <glci-maintainers@example.org>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
# No CPACK_PACKAGE_DESCRIPTION_SUMMARY: CPackDeb would put it in front of
# each package's own synopsis (CPACK_DEBIAN_<COMPONENT>_DESCRIPTION below).
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
# The configs install to an absolute /etc/glci: DESTDIR keeps them inside the
# staging tree.
set(CPACK_SET_DESTDIR ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_GENERATOR DEB)

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL collector agent)
set(CPACK_COMPONENTS_GROUPING IGNORE)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(s_debian ${CMAKE_BINARY_DIR}/deploy/debian)

set(CPACK_DEBIAN_COLLECTOR_PACKAGE_NAME glci-collector)
set(CPACK_DEBIAN_COLLECTOR_PACKAGE_DEPENDS "adduser")
# Debian descriptions: the first line is the synopsis.
set(CPACK_DEBIAN_COLLECTOR_DESCRIPTION
"glci collector and operators' CLI (UNESCO Global Learning City Index)
glci-collector receives indicator values from the city agents over
CurveZMQ, checks them against the indicator framework, stores them in LMDB
and updates the index in the same transaction before it acknowledges.
glci is the operators' CLI: cities and keys, league tables, city
breakdowns, history, exports, status, verification and backups.")
set(CPACK_DEBIAN_COLLECTOR_PACKAGE_CONTROL_EXTRA
    ${s_debian}/collector/postinst ${s_debian}/collector/prerm
    ${s_debian}/collector/postrm ${s_debian}/collector/conffiles)

set(CPACK_DEBIAN_AGENT_PACKAGE_NAME glci-agent)
set(CPACK_DEBIAN_AGENT_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_AGENT_DESCRIPTION
"glci city agent (UNESCO Global Learning City Index)
glci-agent runs in a member city's IT office: it takes CSV files from a
spool folder and single values from the command line into a durable
outbox and delivers them to the institute's collector over CurveZMQ,
exactly once in effect.")
set(CPACK_DEBIAN_AGENT_PACKAGE_CONTROL_EXTRA
    ${s_debian}/agent/postinst ${s_debian}/agent/prerm
    ${s_debian}/agent/postrm ${s_debian}/agent/conffiles)

include(CPack)
