/**
 * The client's release and the one `user-agent` it sends. Spec 2.2: nothing in a
 * request may identify a user, so the header names the software release only, the
 * same for everyone. A test holds the constant equal to package.json's version.
 */
export const CLIENT_VERSION = '0.1.0';
export const USER_AGENT = `dmf-client/${CLIENT_VERSION}`;
