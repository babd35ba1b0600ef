import type { Admin, Kafka } from 'kafkajs';

/** Runs `fn` with a connected admin client and always disconnects it. */
export async function withAdmin<T>(kafka: Kafka, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** A group that never committed may already be gone; either way it must not linger. */
export async function deleteGroupQuietly(kafka: Kafka, groupId: string): Promise<void> {
  await withAdmin(kafka, (admin) => admin.deleteGroups([groupId])).catch(() => {
    // GROUP_ID_NOT_FOUND or a transient error: an empty group with no offsets expires on its own.
  });
}
