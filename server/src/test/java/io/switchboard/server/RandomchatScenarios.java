package io.switchboard.server;

import io.switchboard.server.internal.dialect.randomchat.RandomchatProbe;
import io.switchboard.server.testing.JdkClient;
import io.switchboard.server.testing.RawClient;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * PROTOCOL.md section 5, the randomchat dialect, frame for frame: every operation, rule and error,
 * offline delivery exactly once, the login token. Run against each store: {@link RandomchatIT}
 * (embedded) and {@link RandomchatRedisIT} (Redis). Dates vary, so frames are compared with every
 * date written as {@code DATE}.
 */
abstract class RandomchatScenarios {

    private static final AtomicInteger RUN = new AtomicInteger();
    private static final Pattern DATE = Pattern.compile("\"\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z\"");
    private static final Pattern TOKEN = Pattern.compile("^\\{\"type\":\"state\",(.*),\"token\":\"([A-Za-z0-9_-]{43})\"}$");
    static final String NOT_REGISTERED = "Register first: {\\\"type\\\":\\\"register\\\",\\\"user\\\":"
            + "{\\\"name\\\":\\\"...\\\",\\\"phone\\\":\\\"...\\\"}}";

    /** {@code RANDOMCHAT_MAX_CHATS_PER_USER} of the nodes the scenarios run on: small, to reach it. */
    static final int MAX_OWNED = 3;
    /** {@code RANDOMCHAT_MAX_ADDED_CHATS_PER_USER} of the nodes the scenarios run on. */
    static final int MAX_ADDED = 3;

    /** A prefix that keeps each test's phones and chats apart from the other tests' on the same store. */
    final String run = "r" + System.nanoTime() % 100000 + "-" + RUN.incrementAndGet() + "-";
    final List<JdkClient> clients = new ArrayList<>();

    /** The node the scenarios talk to. */
    abstract InetSocketAddress address();

    /** The nodes {@link #address()} returns in turn. */
    abstract List<SwitchboardServer> sharedNodes();

    /**
     * Starts nodes of this test's own, with the scenarios' settings changed by {@code tune}: one
     * node on a fresh {@code DATA_DIR}, or two nodes on a Redis key prefix of their own. The test
     * stops them ({@link Nodes#close()}).
     */
    abstract Nodes startNodes(UnaryOperator<SwitchboardConfig.Builder> tune);

    /** Starts this test's own nodes, whose randomchat store cannot serve: its file cannot be opened, its Redis is not there. */
    abstract Nodes startNodesWithTheStoreDown();

    /** A test's own nodes; {@link #at} gives their addresses in turn, so that users alternate between them. */
    record Nodes(List<SwitchboardServer> servers) implements AutoCloseable {
        InetSocketAddress at(int i) {
            return servers.get(i % servers.size()).localAddress();
        }

        /** {@code switchboard_randomchat_limited_total{limit=...}} summed over the nodes. */
        long limited(String limit) {
            return sum("switchboard_randomchat_limited_total{limit=\"" + limit + "\"}");
        }

        /** {@code switchboard_randomchat_pending_dropped_total{reason=...}} summed over the nodes. */
        long dropped(String reason) {
            return sum("switchboard_randomchat_pending_dropped_total{reason=\"" + reason + "\"}");
        }

        /** Waits until no node holds a WebSocket connection ({@code switchboard_websocket_connections}). */
        void awaitNoWebSocketConnections() throws InterruptedException {
            long deadline = System.nanoTime() + JdkClient.WAIT.toNanos();
            while (sum("switchboard_websocket_connections") != 0) {
                assertTrue(System.nanoTime() - deadline < 0, "a WebSocket connection was never closed");
                Thread.sleep(10); // polls the condition; the outcome is decided by it, not by the time
            }
        }

        private long sum(String series) {
            long sum = 0;
            for (SwitchboardServer s : servers) {
                String body = get(s.localAddress(), "/metrics").body();
                Matcher m = Pattern.compile("\n" + Pattern.quote(series) + " (\\d+)\\.0\n").matcher(body);
                assertTrue(m.find(), "no " + series + " in /metrics");
                sum += Long.parseLong(m.group(1));
            }
            return sum;
        }

        @Override
        public void close() {
            servers.forEach(s -> s.stop().join());
        }
    }

    static HttpResponse<String> get(InetSocketAddress at, String path) {
        try {
            return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + at.getPort()
                    + path)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * Waits until the nodes in {@code on} hold {@code left} connections of {@code p}: the closes of
     * the others are handled, their logouts recorded in the store (with none left the user is
     * offline, its {@code disconnection_date} set, what its connections missed settled). Only then is
     * one outcome right for what follows.
     */
    static void awaitConnections(Person p, List<SwitchboardServer> on, int left) throws InterruptedException {
        long deadline = System.nanoTime() + JdkClient.WAIT.toNanos();
        while (true) {
            int n = 0;
            for (SwitchboardServer s : on) {
                n += RandomchatProbe.sessions(s.switchboard().node().randomchat(), p.phone());
            }
            if (n == left) {
                return;
            }
            assertTrue(System.nanoTime() - deadline < 0, p.phone() + " holds " + n + " connections, not " + left);
            Thread.sleep(10); // polls the condition; the outcome is decided by it, not by the time
        }
    }

    static void awaitLoggedOut(Person p, List<SwitchboardServer> on) throws InterruptedException {
        awaitConnections(p, on, 0);
    }

    void awaitLoggedOut(Person p) throws InterruptedException {
        awaitLoggedOut(p, sharedNodes());
    }

    // ---- The user's side ----

    /** A registered user on one connection, with the token its first registration returned. */
    record Person(JdkClient client, String name, String phone, String token) {
        String user() {
            return RandomchatScenarios.user(name, phone, false);
        }

        String userOffline() {
            return RandomchatScenarios.user(name, phone, true);
        }

        String next() {
            return normalize(client.next());
        }

        String request(String json) {
            client.send(json);
            return next();
        }
    }

    static JdkClient open(InetSocketAddress address) {
        return JdkClient.connect(URI.create("ws://127.0.0.1:" + address.getPort() + "/randomchat"));
    }

    JdkClient open() {
        JdkClient c = open(address());
        clients.add(c);
        return c;
    }

    /** Registers a new user (its phone is made unique to the test) and checks its first state. */
    Person register(String name, String phoneSuffix) {
        return register(address(), name, phoneSuffix);
    }

    Person register(InetSocketAddress at, String name, String phoneSuffix) {
        String phone = run + phoneSuffix;
        JdkClient c = open(at);
        clients.add(c);
        c.send(registerRequest(name, phone, null));
        String state = c.next();
        Matcher m = TOKEN.matcher(state);
        assertTrue(m.matches(), state);
        assertEquals("\"chats\":[]", m.group(1));
        return new Person(c, name, phone, m.group(2));
    }

    /** Logs {@code p} in again on a new connection, with its token; returns the person and its state. */
    Person login(Person p, InetSocketAddress at) {
        JdkClient c = open(at);
        clients.add(c);
        c.send(registerRequest(p.name, p.phone, p.token));
        return new Person(c, p.name, p.phone, p.token);
    }

    Person login(Person p) {
        return login(p, address());
    }

    static String registerRequest(String name, String phone, String token) {
        return "{\"type\":\"register\",\"user\":{\"name\":\"" + name + "\",\"phone\":\"" + phone + "\"}"
                + (token == null ? "" : ",\"token\":\"" + token + "\"") + "}";
    }

    static String createChat(String name) {
        return "{\"type\":\"create_chat\",\"name\":\"" + name + "\"}";
    }

    static String send(String chat, String message) {
        return "{\"type\":\"send_message\",\"chat\":\"" + chat + "\",\"message\":\"" + message + "\"}";
    }

    static String deleteChat(String chat) {
        return "{\"type\":\"delete_chat\",\"chat\":\"" + chat + "\"}";
    }

    static String addMember(String chat, Person p) {
        return "{\"type\":\"add_member\",\"chat\":\"" + chat + "\",\"phone\":\"" + p.phone + "\"}";
    }

    static String removeMember(String chat, Person p) {
        return "{\"type\":\"remove_member\",\"chat\":\"" + chat + "\",\"phone\":\"" + p.phone + "\"}";
    }

    // ---- The server's frames, as the seed writes them ----

    static String user(String name, String phone, boolean disconnected) {
        return "{\"name\":\"" + name + "\",\"phone\":\"" + phone + "\",\"disconnection_date\":"
                + (disconnected ? "DATE" : "null") + "}";
    }

    /** A chat as frames carry it: {@code members} are users as rendered, the owner first. */
    static String chat(String name, String... members) {
        return "{\"name\":\"" + name + "\",\"members\":[" + String.join(",", members) + "],\"owner\":" + members[0] + "}";
    }

    static String newMember(String chat, String user) {
        return "{\"type\":\"new_member\",\"chat\":" + chat + ",\"user\":" + user + "}";
    }

    static String message(String chat, String from, String text) {
        return "{\"type\":\"message\",\"chat\":" + chat + ",\"from\":" + from + ",\"date\":DATE,\"message\":\"" + text
                + "\"}";
    }

    static String memberRemoved(String chat, String user) {
        return "{\"type\":\"member_removed\",\"chat\":" + chat + ",\"user\":" + user + "}";
    }

    static String chatDeleted(String chat) {
        return "{\"type\":\"chat_deleted\",\"chat\":" + chat + "}";
    }

    static String state(String... chatStates) {
        return "{\"type\":\"state\",\"chats\":[" + String.join(",", chatStates) + "]}";
    }

    static String chatState(String chat, String... briefMessages) {
        return "{\"chat\":" + chat + ",\"messages\":[" + String.join(",", briefMessages) + "]}";
    }

    static String brief(String from, String text) {
        return "{\"from\":" + from + ",\"date\":DATE,\"message\":\"" + text + "\"}";
    }

    static String error(String message, String request) {
        return "{\"type\":\"error\",\"message\":\"" + message + "\",\"request\":"
                + (request == null ? "null" : "\"" + request + "\"") + "}";
    }

    static String normalize(String frame) {
        return DATE.matcher(frame).replaceAll("DATE");
    }

    /**
     * Asserts that {@code quiet} got nothing so far: {@code from}, a member of {@code chat}, adds it
     * there, and that {@code new_member} must be the next frame {@code quiet} reads. Events from one
     * node reach a connection in the order they were sent (in a cluster through the one pub/sub
     * channel of the receiving node), so anything {@code from}'s earlier requests sent {@code quiet}
     * would come first. No wait decides it.
     */
    static void assertNothingCameTo(Person quiet, Person from, String chat) {
        from.client().send(addMember(chat, quiet));
        String added = from.next();
        assertTrue(added.startsWith("{\"type\":\"new_member\",\"chat\":{\"name\":\"" + chat + "\""), added);
        assertEquals(added, quiet.next(), "something came before");
    }

    void closeAll() {
        clients.forEach(JdkClient::close);
    }

    /** Sends {@code request} on a new connection to {@code at} and resets it (RST) without reading anything. */
    static void registerAndReset(InetSocketAddress at, String request) {
        try (Socket socket = new Socket("127.0.0.1", at.getPort())) {
            socket.setSoTimeout((int) JdkClient.WAIT.toMillis());
            OutputStream out = socket.getOutputStream();
            out.write(("GET /randomchat HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            int matched = 0;
            while (matched < 4) { // the response head, up to its blank line
                int b = in.read();
                assertTrue(b >= 0, "the upgrade was not answered");
                matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
            }
            byte[] payload = request.getBytes(StandardCharsets.UTF_8);
            assertTrue(payload.length < 126);
            byte[] frame = new byte[6 + payload.length]; // text, masked with the key 0 (payload as is)
            frame[0] = (byte) 0x81;
            frame[1] = (byte) (0x80 | payload.length);
            System.arraycopy(payload, 0, frame, 6, payload.length);
            out.write(frame);
            out.flush();
            socket.setSoLinger(true, 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- The scenarios ----

    @Test
    void aNewUserWhoseFirstStateWasNeverWrittenRegistersAgainWithoutAToken() throws Exception {
        try (Nodes own = startNodes(UnaryOperator.identity())) {
            // A reset follows the register at once: the first state, which carries the token, finds
            // the connection closed (or its write fails), so the client never learns the token.
            String phone = run + "lost";
            registerAndReset(own.at(0), registerRequest("Ann", phone, null));
            // Once the node has closed that connection and recorded its logout, the token is
            // withdrawn (the withdrawal goes to the store before the logout).
            own.awaitNoWebSocketConnections();
            awaitLoggedOut(new Person(null, "Ann", phone, null), own.servers());

            JdkClient again = open(own.at(1));
            clients.add(again);
            String state = again.request(registerRequest("Ann", phone, null));
            Matcher m = TOKEN.matcher(state);
            assertTrue(m.matches(), "the phone stays locked out without the token that never reached its client: "
                    + state);
            assertEquals("\"chats\":[]", m.group(1));
            // The new token is the one that counts now.
            JdkClient withToken = open(own.at(0));
            clients.add(withToken);
            assertTrue(withToken.request(registerRequest("Ann", phone, m.group(2))).startsWith("{\"type\":\"state\""));
        }
    }

    @Test
    void theFirstRegisterReturnsATokenThatLaterLoginsMustCarry() {
        Person ann = register("Ann", "ann");
        assertEquals(43, ann.token().length());
        String missing = "Phone '" + ann.phone() + "' is registered: log in with the token its first registration "
                + "returned, as {\\\"type\\\":\\\"register\\\",\\\"user\\\":{...},\\\"token\\\":\\\"...\\\"}";
        JdkClient other = open();
        other.send(registerRequest("Ann", ann.phone(), null));
        assertEquals(error(missing, "register"), other.next());
        other.send(registerRequest("Ann", ann.phone(), "not-the-token"));
        assertEquals(error("Wrong token for phone '" + ann.phone() + "'", "register"), other.next());
        other.send(registerRequest("Ann", ann.phone(), ann.token().substring(1) + "x"));
        assertEquals(error("Wrong token for phone '" + ann.phone() + "'", "register"), other.next());
        // Refused, the connection may still log in, and a login returns no new token.
        other.send(registerRequest("Ann", ann.phone(), ann.token()));
        assertEquals(state(), other.next());
        other.send(registerRequest("Ann", ann.phone(), ann.token()));
        assertEquals(error("This connection is already registered as '" + ann.phone() + "': open another "
                + "connection to register another user", "register"), other.next());
    }

    @Test
    void theCreatorOwnsANewChatIsItsFirstMemberAndHearsOfIt() {
        Person ann = register("Ann", "ann");
        String friends = run + "friends";
        assertEquals(newMember(chat(friends, ann.user()), ann.user()), ann.request(createChat(friends)));
        assertEquals(error("A chat named '" + friends + "' already exists", "create_chat"),
                ann.request(createChat(friends)));
        Person bob = register("Bob", "bob");
        assertEquals(error("A chat named '" + friends + "' already exists", "create_chat"),
                bob.request(createChat(friends)));
    }

    @Test
    void anyMemberAddsARegisteredUserAndEveryMemberHearsOfIt() throws Exception {
        Person ann = register("Ann", "ann");
        Person bob = register("Bob", "bob");
        Person cy = register("Cy", "cy");
        String c = run + "club";
        ann.request(createChat(c));

        String two = chat(c, ann.user(), bob.user());
        ann.client().send(addMember(c, bob));
        assertEquals(newMember(two, bob.user()), ann.next());
        assertEquals(newMember(two, bob.user()), bob.next());

        // A member who is not the owner adds the third.
        String three = chat(c, ann.user(), bob.user(), cy.user());
        bob.client().send(addMember(c, cy));
        assertEquals(newMember(three, cy.user()), bob.next());
        assertEquals(newMember(three, cy.user()), ann.next());
        assertEquals(newMember(three, cy.user()), cy.next());

        assertEquals(error("'" + cy.phone() + "' is already a member of '" + c + "'", "add_member"),
                ann.request(addMember(c, cy)));
        assertEquals(error("No user with phone '" + run + "nobody' is registered", "add_member"),
                ann.request("{\"type\":\"add_member\",\"chat\":\"" + c + "\",\"phone\":\"" + run + "nobody\"}"));
        Person dee = register("Dee", "dee");
        assertEquals(error("You are not a member of '" + c + "'", "add_member"), dee.request(addMember(c, dee)));
        assertEquals(error("No chat named '" + run + "none'", "add_member"),
                ann.request(addMember(run + "none", dee)));
        assertNothingCameTo(dee, ann, c); // a refusal goes to the requester alone
    }

    @Test
    void aMessageReachesEveryMemberSenderIncludedAndNobodyElse() throws Exception {
        Person ann = register("Ann", "ann");
        Person bob = register("Bob", "bob");
        Person eve = register("Eve", "eve");
        String c = run + "talk";
        ann.request(createChat(c));
        ann.client().send(addMember(c, bob));
        ann.next();
        bob.next();

        String room = chat(c, ann.user(), bob.user());
        bob.client().send(send(c, "hi \\\"ann\\\" \u00e9\u4e16\\n"));
        String expected = message(room, bob.user(), "hi \\\"ann\\\" \u00e9\u4e16\\n");
        assertEquals(expected, bob.next());
        assertEquals(expected, ann.next());

        assertEquals(error("You are not a member of '" + c + "'", "send_message"), eve.request(send(c, "let me in")));
        assertEquals(error("No chat named '" + run + "void'", "send_message"), ann.request(send(run + "void", "x")));
        assertEquals(error("'message' must not be empty", "send_message"), ann.request(send(c, "")));
        assertNothingCameTo(eve, bob, c); // not a member: Bob's message did not reach her
    }

    @Test
    void onlyTheOwnerRemovesAMemberAndEveryMemberHearsOfItTheRemovedOneToo() throws Exception {
        Person ann = register("Ann", "ann");
        Person bob = register("Bob", "bob");
        Person cy = register("Cy", "cy");
        String c = run + "team";
        ann.request(createChat(c));
        ann.client().send(addMember(c, bob));
        ann.next();
        bob.next();
        ann.client().send(addMember(c, cy));
        ann.next();
        bob.next();
        cy.next();

        assertEquals(error("Only the owner of '" + c + "' may remove members", "remove_member"),
                bob.request(removeMember(c, cy)));
        String after = chat(c, ann.user(), bob.user());
        ann.client().send(removeMember(c, cy));
        assertEquals(memberRemoved(after, cy.user()), ann.next());
        assertEquals(memberRemoved(after, cy.user()), bob.next());
        assertEquals(memberRemoved(after, cy.user()), cy.next());

        assertEquals(error("'" + cy.phone() + "' is not a member of '" + c + "'", "remove_member"),
                ann.request(removeMember(c, cy)));
        assertEquals(error("The owner cannot be removed from '" + c + "': delete the chat instead", "remove_member"),
                ann.request(removeMember(c, ann)));
        assertEquals(error("You are not a member of '" + c + "'", "remove_member"), cy.request(removeMember(c, bob)));
        assertEquals(error("You are not a member of '" + c + "'", "send_message"), cy.request(send(c, "still here?")));
        assertNothingCameTo(cy, ann, c);
    }

    @Test
    void aMemberSomeoneElseAddedLeavesWithRemoveMemberOnItsOwnPhone() throws Exception {
        Person ann = register("Ann", "ann");
        Person bob = register("Bob", "bob");
        Person cy = register("Cy", "cy");
        String c = run + "trap";
        ann.request(createChat(c));
        ann.client().send(addMember(c, bob));
        ann.next();
        bob.next();
        ann.client().send(addMember(c, cy));
        ann.next();
        bob.next();
        cy.next();

        // Bob, put there by Ann, leaves: every member hears of it as of a removal, Bob too.
        String after = chat(c, ann.user(), cy.user());
        bob.client().send(removeMember(c, bob));
        assertEquals(memberRemoved(after, bob.user()), bob.next());
        assertEquals(memberRemoved(after, bob.user()), ann.next());
        assertEquals(memberRemoved(after, bob.user()), cy.next());
        assertEquals(error("You are not a member of '" + c + "'", "send_message"), bob.request(send(c, "back?")));
        assertEquals(error("You are not a member of '" + c + "'", "remove_member"), bob.request(removeMember(c, bob)));

        // Leaving is for oneself: a member still removes nobody else, and the owner cannot leave.
        assertEquals(error("Only the owner of '" + c + "' may remove members", "remove_member"),
                cy.request(removeMember(c, ann)));
        assertEquals(error("The owner cannot be removed from '" + c + "': delete the chat instead", "remove_member"),
                ann.request(removeMember(c, ann)));
        ann.client().send(send(c, "without bob"));
        assertEquals(message(after, ann.user(), "without bob"), ann.next());
        assertEquals(message(after, ann.user(), "without bob"), cy.next());
        assertEquals(state(), login(bob).next(), "his state no longer lists the chat");
        assertNothingCameTo(bob, ann, c); // Bob is no longer a member: Ann's message did not reach him
    }

    @Test
    void anotherUserFillingTheVictimsChatsCannotStopItCreatingOne() throws Exception {
        Person eve = register("Eve", "eve");
        Person mal = register("Mal", "mal");
        Person bob = register("Bob", "bob");
        List<String> added = new ArrayList<>();
        for (int i = 0; i < MAX_ADDED; i++) {
            String c = run + "e" + i;
            added.add(c);
            eve.request(createChat(c));
            eve.client().send(addMember(c, bob));
            assertEquals(newMember(chat(c, eve.user(), bob.user()), bob.user()), eve.next());
            assertEquals(newMember(chat(c, eve.user(), bob.user()), bob.user()), bob.next());
        }
        assertEquals(error("'" + eve.phone() + "' owns the most chats allowed (" + MAX_OWNED
                + "): delete one to create another", "create_chat"), eve.request(createChat(run + "e-more")));
        String m = run + "m";
        mal.request(createChat(m));
        String full = "'" + bob.phone() + "' was added to the most chats allowed (" + MAX_ADDED
                + "): it must leave one before it can be added to another";
        assertEquals(error(full, "add_member"), mal.request(addMember(m, bob)));
        // A refusal goes to the adder alone: Bob's next frames are the answers to his own requests,
        // and Mal's next event for him, below, is the one he reads (nothing from Mal before it).

        // Bob's own chats count against his own limit only.
        List<String> own = new ArrayList<>();
        for (int i = 0; i < MAX_OWNED; i++) {
            String c = run + "b" + i;
            own.add(c);
            assertEquals(newMember(chat(c, bob.user()), bob.user()), bob.request(createChat(c)));
        }
        assertEquals(error("'" + bob.phone() + "' owns the most chats allowed (" + MAX_OWNED
                + "): delete one to create another", "create_chat"), bob.request(createChat(run + "b-more")));

        // He leaves one he was put in, and may be added to another.
        bob.client().send(removeMember(added.get(0), bob));
        assertEquals(memberRemoved(chat(added.get(0), eve.user()), bob.user()), bob.next());
        assertEquals(memberRemoved(chat(added.get(0), eve.user()), bob.user()), eve.next());
        mal.client().send(addMember(m, bob));
        assertEquals(newMember(chat(m, mal.user(), bob.user()), bob.user()), mal.next());
        assertEquals(newMember(chat(m, mal.user(), bob.user()), bob.user()), bob.next());
        assertEquals(error(full, "add_member"), eve.request(addMember(added.get(0), bob)));

        // His state lists both kinds: at most MAX_OWNED + MAX_ADDED chats.
        bob.client().closeGracefully();
        String state = login(bob).next();
        for (String c : List.of(added.get(1), added.get(2), own.get(0), own.get(1), own.get(2), m)) {
            assertTrue(state.contains("{\"name\":\"" + c + "\""), c + " is missing from " + state);
        }
        assertTrue(!state.contains("{\"name\":\"" + added.get(0) + "\""), state);
    }

    @Test
    void onlyTheOwnerDeletesAChatAndEveryMemberHearsOfIt() throws Exception {
        Person ann = register("Ann", "ann");
        Person bob = register("Bob", "bob");
        String c = run + "gone";
        ann.request(createChat(c));
        ann.client().send(addMember(c, bob));
        ann.next();
        bob.next();

        assertEquals(error("Only the owner of '" + c + "' may delete it", "delete_chat"), bob.request(deleteChat(c)));
        String room = chat(c, ann.user(), bob.user());
        ann.client().send(deleteChat(c));
        assertEquals(chatDeleted(room), ann.next());
        assertEquals(chatDeleted(room), bob.next());
        assertEquals(error("No chat named '" + c + "'", "delete_chat"), ann.request(deleteChat(c)));
        assertEquals(error("No chat named '" + c + "'", "send_message"), bob.request(send(c, "hello?")));
        // The name is free again.
        assertEquals(newMember(chat(c, bob.user()), bob.user()), bob.request(createChat(c)));
    }

    @Test
    void anOfflineMemberGetsWhatItMissedInItsNextStateExactlyOnce() throws InterruptedException {
        Person ann = register("Ann", "ann");
        Person bob = register("Bob", "bob");
        String c = run + "inbox";
        ann.request(createChat(c));
        ann.client().send(addMember(c, bob));
        ann.next();
        bob.next();
        bob.client().closeGracefully();
        awaitLoggedOut(bob);

        // Bob's close is handled: he is offline, with his disconnection date, and the messages wait.
        String room = chat(c, ann.user(), bob.userOffline());
        assertEquals(message(room, ann.user(), "one"), ann.request(send(c, "one")));
        assertEquals(message(room, ann.user(), "two"), ann.request(send(c, "two")));

        // disconnection_date is the last disconnection: it stays when the user is back.
        Person back = login(bob);
        assertEquals(state(chatState(room, brief(ann.user(), "one"), brief(ann.user(), "two"))), back.next());
        back.client().closeGracefully();

        Person again = login(bob);
        String second = again.next();
        assertEquals(state(chatState(chat(c, ann.user(), bob.userOffline()))), second, "no longer pending");
        ann.client().send(send(c, "three"));
        assertEquals(message(chat(c, ann.user(), bob.userOffline()), ann.user(), "three"), ann.next());
        assertEquals(message(chat(c, ann.user(), bob.userOffline()), ann.user(), "three"), again.next());
    }

    @Test
    void whatAnOnlineMemberGotIsNotInItsNextState() throws InterruptedException {
        Person ann = register("Ann", "ann");
        Person bob = register("Bob", "bob");
        String c = run + "live";
        ann.request(createChat(c));
        ann.client().send(addMember(c, bob));
        ann.next();
        bob.next();
        String room = chat(c, ann.user(), bob.user());
        for (String text : List.of("one", "two", "three")) {
            ann.client().send(send(c, text));
            assertEquals(message(room, ann.user(), text), ann.next());
            assertEquals(message(room, ann.user(), text), bob.next());
        }
        // Nothing Bob's connection wrote is kept for him.
        bob.client().closeGracefully();
        awaitLoggedOut(bob);
        assertEquals(state(chatState(chat(c, ann.user(), bob.userOffline()))), login(bob).next());
    }

    @Test
    void everyConnectionOfAUserGetsItsEventsAndItIsOfflineOnlyWhenTheLastCloses() throws InterruptedException {
        Person ann = register("Ann", "ann");
        Person bob = register("Bob", "bob");
        String c = run + "devices";
        ann.request(createChat(c));
        ann.client().send(addMember(c, bob));
        ann.next();
        bob.next();
        Person phone2 = login(bob);
        assertEquals(state(chatState(chat(c, ann.user(), bob.user()))), phone2.next());

        bob.client().closeGracefully();
        awaitConnections(bob, sharedNodes(), 1);
        String room = chat(c, ann.user(), bob.user()); // one connection is still open: never disconnected
        ann.client().send(send(c, "to both?"));
        assertEquals(message(room, ann.user(), "to both?"), ann.next());
        assertEquals(message(room, ann.user(), "to both?"), phone2.next());

        phone2.client().closeGracefully();
        awaitLoggedOut(bob);
        String away = chat(c, ann.user(), bob.userOffline());
        assertEquals(message(away, ann.user(), "kept"), ann.request(send(c, "kept")));
        assertEquals(state(chatState(away, brief(ann.user(), "kept"))), login(bob).next(), "once, in the state");
    }

    @Test
    void theStateListsEveryChatOfTheUserWithItsMembers() throws InterruptedException {
        Person ann = register("Ann", "ann");
        Person bob = register("Bob", "bob");
        String first = run + "first";
        String second = run + "second";
        ann.request(createChat(first));
        bob.request(createChat(second));
        bob.client().send(addMember(second, ann));
        bob.next();
        ann.next();
        ann.client().closeGracefully();
        awaitLoggedOut(ann);
        Person back = login(ann);
        String annNow = ann.userOffline();
        assertEquals(state(chatState(chat(first, annNow)), chatState(chat(second, bob.user(), annNow))), back.next());
    }

    // ---- Limits and rules on nodes of the test's own ----

    /** Registers a new user on {@code at}, with {@link #register(InetSocketAddress, String, String)}. */
    Person registerOn(Nodes nodes, int i, String name, String suffix) {
        return register(nodes.at(i), name, suffix);
    }

    /** Creates {@code c} by {@code owner} and adds each of {@code members}, reading every member's new_member. */
    static void chatOf(String c, Person owner, Person... members) {
        owner.request(createChat(c));
        List<Person> in = new ArrayList<>(List.of(owner));
        for (Person m : members) {
            owner.client().send(addMember(c, m));
            in.add(m);
            for (Person p : in) {
                assertTrue(p.next().startsWith("{\"type\":\"new_member\""));
            }
        }
    }

    @Test
    void aChatHasAtMostMaxMembersAndEachPerUserLimitIsCounted() throws Exception {
        try (Nodes own = startNodes(b -> b.randomchatMaxMembers(3).randomchatMaxChatsPerUser(2)
                .randomchatMaxAddedChatsPerUser(1))) {
            Person ann = registerOn(own, 0, "Ann", "ann");
            Person bob = registerOn(own, 1, "Bob", "bob");
            Person cy = registerOn(own, 0, "Cy", "cy");
            Person dee = registerOn(own, 1, "Dee", "dee");
            String c = run + "three";
            chatOf(c, ann, bob, cy); // RANDOMCHAT_MAX_MEMBERS = 3 members: allowed
            assertEquals(0, own.limited("members"));
            assertEquals(error("'" + c + "' has the most members allowed (3)", "add_member"), ann.request(addMember(c, dee)));
            assertEquals(1, own.limited("members"));
            // The one refused hears nothing: Ann's next event for Dee, below, is the next frame Dee reads.
            // A member leaves: there is room for one again.
            cy.client().send(removeMember(c, cy));
            for (Person p : List.of(cy, ann, bob)) {
                assertTrue(p.next().startsWith("{\"type\":\"member_removed\""));
            }
            ann.client().send(addMember(c, dee));
            String four = chat(c, ann.user(), bob.user(), dee.user());
            assertEquals(newMember(four, dee.user()), ann.next());
            assertEquals(newMember(four, dee.user()), bob.next());
            assertEquals(newMember(four, dee.user()), dee.next());

            // RANDOMCHAT_MAX_CHATS_PER_USER = 2: Ann owns c and one more, not a third.
            assertEquals(newMember(chat(run + "second", ann.user()), ann.user()), ann.request(createChat(run + "second")));
            assertEquals(0, own.limited("owned_chats"));
            assertEquals(error("'" + ann.phone() + "' owns the most chats allowed (2): delete one to create another",
                    "create_chat"), ann.request(createChat(run + "third")));
            assertEquals(1, own.limited("owned_chats"));

            // RANDOMCHAT_MAX_ADDED_CHATS_PER_USER = 1: Bob is in Ann's chat, not in a second one of others.
            String cys = run + "cys";
            assertEquals(newMember(chat(cys, cy.user()), cy.user()), cy.request(createChat(cys)));
            assertEquals(0, own.limited("added_chats"));
            assertEquals(error("'" + bob.phone() + "' was added to the most chats allowed (1): it must leave one "
                    + "before it can be added to another", "add_member"), cy.request(addMember(cys, bob)));
            assertEquals(1, own.limited("added_chats"));
            assertEquals(1, own.limited("members"), "each refusal counted under its own limit only");
            assertEquals(1, own.limited("owned_chats"));
        }
    }

    @Test
    void anOfflineUserKeepsItsNewestMaxPendingMessages() throws Exception {
        try (Nodes own = startNodes(b -> b.randomchatMaxPending(3))) {
            Person ann = registerOn(own, 0, "Ann", "ann");
            Person bob = registerOn(own, 1, "Bob", "bob");
            String c = run + "queue";
            chatOf(c, ann, bob);
            bob.client().closeGracefully();
            awaitLoggedOut(bob, own.servers());
            String room = chat(c, ann.user(), bob.userOffline());
            for (String text : List.of("1", "2", "3")) { // RANDOMCHAT_MAX_PENDING: all kept
                assertEquals(message(room, ann.user(), text), ann.request(send(c, text)));
            }
            Person back = login(bob, own.at(0));
            assertEquals(state(chatState(room, brief(ann.user(), "1"), brief(ann.user(), "2"), brief(ann.user(), "3"))),
                    back.next());
            assertEquals(0, own.dropped("max_pending"));
            back.client().closeGracefully();
            awaitLoggedOut(bob, own.servers());
            for (String text : List.of("4", "5", "6", "7")) { // one more: the oldest is dropped
                assertEquals(message(room, ann.user(), text), ann.request(send(c, text)));
            }
            assertEquals(state(chatState(room, brief(ann.user(), "5"), brief(ann.user(), "6"), brief(ann.user(), "7"))),
                    login(bob, own.at(1)).next());
            assertEquals(1, own.dropped("max_pending"));
        }
    }

    @Test
    void aPendingMessageOlderThanThePendingTtlIsDroppedAndNotBefore() throws Exception {
        long ttl = 4_000;
        try (Nodes own = startNodes(b -> b.randomchatPendingTtl(Duration.ofMillis(ttl)))) {
            Person ann = registerOn(own, 0, "Ann", "ann");
            Person bob = registerOn(own, 1, "Bob", "bob");
            Person cy = registerOn(own, 0, "Cy", "cy");
            String c = run + "ttl";
            chatOf(c, ann, bob, cy);
            bob.client().closeGracefully();
            cy.client().closeGracefully();
            awaitLoggedOut(bob, own.servers());
            awaitLoggedOut(cy, own.servers());
            ann.client().send(send(c, "soon stale"));
            String echo = ann.client().next();
            Matcher d = Pattern.compile("\"date\":\"([^\"]+)\"").matcher(echo);
            assertTrue(d.find(), echo);
            long date = Instant.parse(d.group(1)).toEpochMilli(); // the server's clock, the one the TTL counts on
            String room = chat(c, ann.user(), bob.userOffline(), cy.userOffline());

            // Before the TTL: kept. The login's answer came before date + TTL, so the server's now was earlier.
            String before = login(bob, own.at(1)).next();
            long answered = System.currentTimeMillis();
            assertTrue(answered < date + ttl, "the login took longer than the TTL: nothing to conclude");
            assertEquals(state(chatState(room, brief(ann.user(), "soon stale"))), before);
            assertEquals(0, own.dropped("ttl"));

            // Halfway, a message kept for Cy shows the limit is per message (and keeps Cy's pending
            // list alive in Redis, whose key would otherwise expire whole at the TTL, uncounted).
            waitForClock(date + ttl / 2);
            ann.request(send(c, "younger"));
            // After it: dropped. The login is sent once the clock is past date + TTL (the tolerance is
            // the clock's millisecond: the server reads the same clock).
            waitForClock(date + ttl + 1);
            assertEquals(state(chatState(room, brief(ann.user(), "younger"))), login(cy, own.at(0)).next());
            assertEquals(1, own.dropped("ttl"));
        }
    }

    /** Waits until the clock (the server's too: same machine) reads {@code millis} or later. */
    static void waitForClock(long millis) throws InterruptedException {
        for (long left = millis - System.currentTimeMillis(); left > 0; left = millis - System.currentTimeMillis()) {
            Thread.sleep(left); // waits for a time limit to pass, which is what the test is about
        }
    }

    @Test
    void deletingAChatDropsItsPendingMessagesAndRemovingAMemberDropsThatMembersOnly() throws Exception {
        try (Nodes own = startNodes(UnaryOperator.identity())) {
            Person ann = registerOn(own, 0, "Ann", "ann");
            Person bob = registerOn(own, 1, "Bob", "bob");
            Person cy = registerOn(own, 0, "Cy", "cy");
            String c = run + "both";
            String other = run + "other";
            chatOf(c, ann, bob, cy);
            chatOf(other, ann, bob);
            bob.client().closeGracefully();
            cy.client().closeGracefully();
            awaitLoggedOut(bob, own.servers());
            awaitLoggedOut(cy, own.servers());
            ann.request(send(c, "for both"));
            ann.request(send(other, "elsewhere"));

            // Bob removed from c: his pending message of c goes, not Cy's, not his of the other chat.
            ann.client().send(removeMember(c, bob));
            ann.next();
            // Added again, Bob's state lists c without the message he was removed with.
            ann.client().send(addMember(c, bob));
            ann.next();
            Person bobBack = login(bob, own.at(1));
            String room = chat(c, ann.user(), cy.userOffline(), bob.userOffline());
            String otherRoom = chat(other, ann.user(), bob.userOffline());
            assertEquals(state(chatState(otherRoom, brief(ann.user(), "elsewhere")), chatState(room)), bobBack.next());

            // c deleted: Cy's pending message of it goes with it; a new chat of the same name starts empty.
            ann.client().send(deleteChat(c));
            ann.next();
            bobBack.next();
            ann.request(createChat(c));
            ann.client().send(addMember(c, cy));
            ann.next();
            assertEquals(state(chatState(chat(c, ann.user(), cy.userOffline()))), login(cy, own.at(0)).next());
        }
    }

    @Test
    void theNameGivenAtALoginReplacesTheStoredOne() throws Exception {
        Person ann = register("Ann", "ann");
        Person bob = register("Bob", "bob");
        String c = run + "names";
        chatOf(c, ann, bob);
        bob.client().closeGracefully();
        awaitLoggedOut(bob);
        JdkClient renamed = open();
        renamed.send(registerRequest("Robert", bob.phone(), bob.token()));
        String robert = user("Robert", bob.phone(), true);
        assertEquals(state(chatState(chat(c, ann.user(), robert))), normalize(renamed.next()));
        assertEquals(message(chat(c, ann.user(), robert), ann.user(), "hi robert"), ann.request(send(c, "hi robert")));
    }

    @Test
    void openLoginLetsAPhoneInWithoutItsToken() throws Exception {
        try (Nodes own = startNodes(b -> b.randomchatOpenLogin(true))) {
            Person ann = registerOn(own, 0, "Ann", "ann");
            for (String token : new String[] {null, "not-the-token"}) {
                JdkClient c = open(own.at(1));
                clients.add(c);
                c.send(registerRequest("Ann B.", ann.phone(), token));
                assertEquals(state(), c.next(), "no token asked, none given");
            }
        }
    }

    @Test
    void healthAnswers503WhileTheStoreCannotServe() throws Exception {
        try (Nodes down = startNodesWithTheStoreDown()) {
            JdkClient c = open(down.at(0));
            clients.add(c);
            c.send(registerRequest("Ann", run + "ann", null));
            assertEquals(error("The server could not store this request: try again later", "register"), c.next());
            HttpResponse<String> health = get(down.at(0), "/health");
            assertEquals(503, health.statusCode(), health.body());
        }
        // A node whose store serves answers 200.
        register("Ann", "ann");
        for (SwitchboardServer s : sharedNodes()) {
            HttpResponse<String> health = get(s.localAddress(), "/health");
            assertEquals(200, health.statusCode(), health.body());
        }
    }

    /**
     * Bob reads nothing while Ann floods their chat on nodes whose outbound limits are tiny. Whatever
     * the slow-consumer policy does to him, every message reaches him exactly once: live, or in the
     * state of his next login (handed back when his connection was cut off, or when the {@code drop}
     * policy skipped it).
     */
    void everyMessageReachesASlowConsumerOnce(SlowConsumerPolicy policy) throws Exception {
        try (Nodes own = startNodes(b -> b.outboundSoftLimitBytes(16 * 1024).outboundHardLimitBytes(64 * 1024)
                .randomchatMaxTextBytes(16 * 1024).maxMessagesPerSecond(100_000).slowConsumerPolicy(policy))) {
            Person ann = registerOn(own, 0, "Ann", "ann");
            String bobPhone = run + "bob";
            RawClient bob = new RawClient(own.at(1), 4096);
            bob.upgrade("/randomchat");
            bob.sendText(registerRequest("Bob", bobPhone, null));
            String token = bob.readText().replaceAll("^.*\"token\":\"([^\"]+)\".*$", "$1");
            Person bobPerson = new Person(null, "Bob", bobPhone, token);
            String c = run + "flood";
            ann.request(createChat(c));
            ann.client().send("{\"type\":\"add_member\",\"chat\":\"" + c + "\",\"phone\":\"" + bobPhone + "\"}");
            ann.next();

            String filler = "x".repeat(15 * 1024);
            int n = 600;
            for (int i = 0; i < n; i++) {
                ann.client().send(send(c, i + filler));
            }
            for (int i = 0; i < n; i++) {
                ann.next();
            }
            List<Integer> all = new ArrayList<>();
            Pattern number = Pattern.compile("\"message\":\"(\\d+)x");
            if (policy == SlowConsumerPolicy.DROP) {
                // Still connected: Bob closes, and reads everything the server wrote before its answer.
                bob.sendFrame(RawClient.CLOSE, true, new byte[] {3, (byte) 0xe8});
                assertEquals(RawClient.CLOSE, readUntilClose(bob, number, all), "the close was not echoed");
            } else {
                readUntilClose(bob, number, all);
            }
            bob.close();
            assertTrue(all.size() < n, "Bob was not cut off or skipped as a slow consumer: " + all.size());
            awaitLoggedOut(bobPerson, own.servers());

            // His next login gets the rest, in its state, and nothing after it.
            JdkClient again = open(own.at(0));
            clients.add(again);
            again.send(registerRequest("Bob", bobPhone, token));
            Matcher m = number.matcher(again.next());
            while (m.find()) {
                all.add(Integer.parseInt(m.group(1)));
            }
            // The rest came in the state: Ann's next message is the next frame (nothing between).
            ann.client().send(send(c, "after"));
            assertTrue(ann.next().contains("\"message\":\"after\""));
            String next = again.next();
            assertTrue(next.contains("\"message\":\"after\""), next);
            Set<Integer> got = new HashSet<>(all);
            assertEquals(n, got.size(), "every message reached Bob");
            assertEquals(n, all.size(), "no message reached Bob twice");
        }
    }

    /** Reads frames, noting the messages' numbers, until a close frame (returns its opcode) or the end (-1). */
    private static int readUntilClose(RawClient c, Pattern number, List<Integer> all) {
        try {
            for (;;) {
                RawClient.Frame f = c.readFrame();
                if (f.opcode() == RawClient.CLOSE) {
                    return RawClient.CLOSE;
                }
                Matcher m = number.matcher(f.text());
                if (m.find()) {
                    all.add(Integer.parseInt(m.group(1)));
                }
            }
        } catch (IOException end) {
            return -1; // the connection ended (a frame may be cut short: its message was handed back)
        }
    }

    @Test
    void messagesQueuedForASlowConsumerThatIsCutOffWaitForItsNextLogin() throws Exception {
        everyMessageReachesASlowConsumerOnce(SlowConsumerPolicy.CLOSE);
    }

    @Test
    void messagesTheDropPolicySkipsWaitForTheNextLogin() throws Exception {
        everyMessageReachesASlowConsumerOnce(SlowConsumerPolicy.DROP);
    }

    @Test
    void anInvalidRequestGetsAnErrorAndTheConnectionLivesOn() {
        JdkClient c = open();
        assertEquals(error(NOT_REGISTERED, "create_chat"), normalize(request(c, createChat(run + "early"))));
        assertEquals(error("A request must be one JSON object with a \\\"type\\\", like {\\\"type\\\":"
                + "\\\"create_chat\\\",\\\"name\\\":\\\"friends\\\"}", null), request(c, "not json"));
        assertEquals(error("Unknown request type 'dance': expected register, create_chat, send_message, "
                + "delete_chat, add_member or remove_member", "dance"), request(c, "{\"type\":\"dance\"}"));
        assertEquals(error("'user.phone' is missing", "register"),
                request(c, "{\"type\":\"register\",\"user\":{\"name\":\"x\"}}"));
        c.sendBinary(new byte[] {1, 2, 3});
        assertEquals(error("Binary frames are not supported: send requests as JSON text frames", null), c.next());
        c.send(registerRequest("Zed", run + "zed", null));
        assertTrue(c.next().startsWith("{\"type\":\"state\",\"chats\":[],\"token\":\""));
        assertEquals(error("'name' is longer than 128 bytes", "create_chat"),
                request(c, createChat("n".repeat(129))));
        // The connection lives on: after every error it still serves a valid request.
        assertNull(c.closedBy());
        String zed = user("Zed", run + "zed", false);
        assertEquals(newMember(chat(run + "alive", zed), zed), normalize(request(c, createChat(run + "alive"))));
    }

    private static String request(JdkClient c, String json) {
        c.send(json);
        return c.next();
    }
}
