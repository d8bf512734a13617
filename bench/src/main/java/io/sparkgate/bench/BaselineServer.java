package io.sparkgate.bench;

public final class BaselineServer {
    public static void main(String[] args) {
    }
}
