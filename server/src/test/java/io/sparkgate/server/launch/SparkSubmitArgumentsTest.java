package io.sparkgate.server.launch;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparkgate.server.values.BatchRequest;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class SparkSubmitArgumentsTest {

    @Test
    void everyLivyFieldBecomesItsSparkSubmitFlagAsSeparateArguments() {
        BatchRequest request = new BatchRequest("app.jar", "com.example.Main", "alice", "my app; rm -rf /",
                List.of("a b", "$(x)"), List.of("x.jar", "y.jar"), List.of("p.py"), List.of("f.txt"), List.of("z.zip"),
                "2g", OptionalInt.of(2), "4g", OptionalInt.of(3), OptionalInt.of(5), "etl",
                Map.of("spark.b", "2", "spark.a", "x y"));

        List<String> argv = SparkSubmitArguments.options(request, Map.of("spark.a", "server", "spark.ui.enabled", "false"));

        assertThat(argv).containsExactly(
                "--class", "com.example.Main",
                "--name", "my app; rm -rf /",
                "--proxy-user", "alice",
                "--jars", "x.jar,y.jar",
                "--py-files", "p.py",
                "--files", "f.txt",
                "--archives", "z.zip",
                "--driver-memory", "2g",
                "--driver-cores", "2",
                "--executor-memory", "4g",
                "--executor-cores", "3",
                "--num-executors", "5",
                "--queue", "etl",
                "--conf", "spark.ui.enabled=false",
                "--conf", "spark.a=x y",
                "--conf", "spark.b=2");
    }

    @Test
    void absentFieldsAddNothing() {
        assertThat(SparkSubmitArguments.options(BatchRequest.of("app.jar"), Map.of())).isEmpty();
    }
}
