package io.flashllm.server.http;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** A hand-written HTTP/1.1 request on a plain socket, so a test can drop the connection at any moment. */
final class RawClient implements AutoCloseable {
    final Socket socket;
    final InputStream in;

    RawClient(int port, String method, String path, String body, String apiKey) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(10_000);
        byte[] b = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        StringBuilder req = new StringBuilder();
        req.append(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: localhost\r\n");
        if (apiKey != null) req.append("Authorization: Bearer ").append(apiKey).append("\r\n");
        if (body != null) req.append("Content-Type: application/json\r\nContent-Length: ").append(b.length).append("\r\n");
        req.append("\r\n");
        socket.getOutputStream().write(req.toString().getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().write(b);
        socket.getOutputStream().flush();
        in = socket.getInputStream();
    }

    /** Reads until the text appears in the response; returns everything read so far. */
    String readUntil(String marker) throws IOException {
        StringBuilder seen = new StringBuilder();
        byte[] buf = new byte[4096];
        while (!seen.toString().contains(marker)) {
            int n = in.read(buf);
            if (n < 0) throw new IOException("connection closed before '" + marker + "'; got: " + seen);
            seen.append(new String(buf, 0, n, StandardCharsets.UTF_8));
        }
        return seen.toString();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
