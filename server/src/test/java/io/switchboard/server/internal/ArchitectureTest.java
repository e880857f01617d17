package io.switchboard.server.internal;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The architecture docs/architecture.md draws, as rules over the server's classes: the core names
 * no dialect, each optional library stays in the package that needs it, and no two packages
 * depend on each other.
 */
class ArchitectureTest {

    private static final JavaClasses SERVER = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.switchboard.server");

    private static final String DIALECTS = "io.switchboard.server.internal.dialect..";

    @Test
    void transportNamesNoDialect() {
        noClasses()
                .that().resideInAPackage("io.switchboard.server.internal.transport..")
                .should().dependOnClassesThat().resideInAPackage(DIALECTS)
                .because("the transport looks a dialect up by its path and knows none by name")
                .check(SERVER);
    }

    @Test
    void brokerNamesNoDialect() {
        noClasses()
                .that().resideInAPackage("io.switchboard.server.internal.broker..")
                .should().dependOnClassesThat().resideInAnyPackage(DIALECTS, "io.switchboard.protocol.minichats..",
                        "io.switchboard.protocol.disposable..", "io.switchboard.protocol.line..",
                        "io.switchboard.protocol.chatroom..", "io.switchboard.protocol.randomchat..")
                .because("dialects register their renderers with the broker; the broker renders nothing itself")
                .check(SERVER);
    }

    @Test
    void sessionsNameNoDialect() {
        noClasses()
                .that().resideInAPackage("io.switchboard.server.internal.session..")
                .should().dependOnClassesThat().resideInAPackage(DIALECTS)
                .check(SERVER);
    }

    @Test
    void coreHasNoRedis() {
        noClasses()
                .that().resideInAnyPackage("io.switchboard.server.internal.transport..",
                        "io.switchboard.server.internal.session..", "io.switchboard.server.internal.broker..")
                .should().dependOnClassesThat().resideInAPackage("io.switchboard.server.internal.cluster..")
                .because("the broker sees the cluster through its ClusterLink contract only")
                .check(SERVER);
    }

    @Test
    void lettuceOnlyInRedisPackages() {
        noClasses()
                .that().resideOutsideOfPackages("io.switchboard.server.internal.cluster..", "..redis..")
                .should().dependOnClassesThat().resideInAPackage("io.lettuce..")
                .because("Lettuce is optional: a single node runs without it")
                .check(SERVER);
    }

    @Test
    void sqliteOnlyInTheSqliteStore() {
        noClasses()
                .that().resideOutsideOfPackage("io.switchboard.server.internal.dialect.randomchat.sqlite..")
                .should().dependOnClassesThat().resideInAnyPackage("org.sqlite..", "java.sql..")
                .because("sqlite-jdbc is optional: only randomchat's single-node store uses it")
                .check(SERVER);
    }

    @Test
    void nimbusOnlyInTheAuthPackage() {
        noClasses()
                .that().resideOutsideOfPackage("io.switchboard.server.internal.auth..")
                .should().dependOnClassesThat().resideInAPackage("com.nimbusds..")
                .because("nimbus-jose-jwt is optional: only token auth (JWT_*) uses it")
                .check(SERVER);
    }

    @Test
    void micrometerOnlyWhereMetricsAreBound() {
        noClasses()
                .that().resideOutsideOfPackages("io.switchboard.server", "io.switchboard.server.internal")
                .should().dependOnClassesThat().resideInAPackage("io.micrometer..")
                .because("Micrometer is optional: the hot path counts with LongAdders, bound to meters in one place")
                .check(SERVER);
    }

    @Test
    void noCyclesBetweenPackages() {
        slices()
                .matching("io.switchboard.server.(**)")
                .should().beFreeOfCycles()
                .check(SERVER);
    }
}
