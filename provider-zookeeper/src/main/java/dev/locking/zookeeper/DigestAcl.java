package dev.locking.zookeeper;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.apache.curator.framework.api.ACLProvider;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;

/**
 * With the {@code auth} option: every node this provider creates may be read by anyone but changed, created
 * under and deleted only by clients with the same digest credentials. Immutable.
 */
final class DigestAcl implements ACLProvider {
    // Not List.of: ZooKeeper asks the list whether it contains null, which List.of answers with an NPE.
    private static final List<ACL> ACLS = Collections.unmodifiableList(Arrays.asList(
            new ACL(ZooDefs.Perms.ALL, ZooDefs.Ids.AUTH_IDS),
            new ACL(ZooDefs.Perms.READ, ZooDefs.Ids.ANYONE_ID_UNSAFE)));

    @Override
    public List<ACL> getDefaultAcl() {
        return ACLS;
    }

    @Override
    public List<ACL> getAclForPath(String path) {
        return ACLS;
    }
}
