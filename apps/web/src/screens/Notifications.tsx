import type { Notification } from '@lifexp/contracts';
import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate } from '@tanstack/react-router';
import { useState } from 'react';
import { useTRPC, useTRPCClient } from '../api';
import { appPath, timeAgo } from '../lib/notify';
import { Check, Empty, ErrorNote, LoadMore } from '../ui';

const PAGE = 20;

const KIND_LABELS: Record<Notification['kind'], string> = {
  reminder: 'Reminder',
  streak: 'Streak',
  insight: 'Insight',
  weekly: 'Weekly summary',
  'webhook-disabled': 'Webhook',
  test: 'Test',
};

/** The in-app notices, newest first, paged on the answer's cursor; new ones arrive on the sync stream. */
export function Notifications() {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const [unreadOnly, setUnreadOnly] = useState(false);
  const input = { limit: PAGE, unreadOnly };
  const notices = useInfiniteQuery({
    queryKey: trpc.notifications.list.infiniteQueryKey(input),
    queryFn: ({ pageParam, signal }) =>
      client.notifications.list.query({ ...input, ...(pageParam ? { cursor: pageParam } : {}) }, { signal }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.nextCursor ?? undefined,
  });
  const invalidate = () => queryClient.invalidateQueries({ queryKey: trpc.notifications.pathKey() });
  const markRead = useMutation(trpc.notifications.markRead.mutationOptions({ onSettled: invalidate }));
  const markAll = useMutation(trpc.notifications.markAllRead.mutationOptions({ onSettled: invalidate }));

  const items = notices.data?.pages.flatMap((page) => page.items) ?? [];
  const unread = notices.data?.pages[0]?.unread ?? 0;
  const now = Date.now();

  return (
    <section aria-labelledby="notifications-heading">
      <div className="screen-head">
        <div>
          <h1 id="notifications-heading">Notifications</h1>
          <p className="muted" data-testid="feed-unread">
            {unread === 0 ? 'All read.' : `${unread} unread`}
          </p>
        </div>
        <div className="actions">
          <Check label="Unread only" checked={unreadOnly} onChange={setUnreadOnly} />
          <button type="button" onClick={() => markAll.mutate()} disabled={unread === 0 || markAll.isPending}>
            Mark all read
          </button>
          <Link to="/settings/notifications" className="button">
            Settings
          </Link>
        </div>
      </div>
      <ErrorNote error={notices.error ?? markRead.error ?? markAll.error} />
      {notices.isSuccess && items.length === 0 && (
        <Empty>
          {unreadOnly
            ? 'Nothing unread.'
            : 'No notifications yet. Reminders, streaks, new insights and your weekly summary show up here; choose them in notification settings.'}
        </Empty>
      )}
      {items.length > 0 && (
        <ul className="list card notices" aria-label="Notifications">
          {items.map((notice) => (
            <NoticeRow
              key={notice.id}
              notice={notice}
              now={now}
              onRead={() => markRead.mutate({ ids: [notice.id] })}
            />
          ))}
        </ul>
      )}
      <LoadMore pages={notices} shown={items.length} />
    </section>
  );
}

function NoticeRow({ notice, now, onRead }: { notice: Notification; now: number; onRead: () => void }) {
  const navigate = useNavigate();
  const unread = notice.readAt === null;
  const path = appPath(notice.link);
  const when = notice.deliveredAt ?? notice.createdAt;
  return (
    <li
      className={`notice${unread ? ' unread' : ''}`}
      data-testid="notice"
      data-id={notice.id}
      data-read={unread ? 'false' : 'true'}
    >
      <div className="grow">
        <p className="notice-title">
          {unread && <span className="dot" aria-hidden="true" />}
          {unread && <span className="sr-only">Unread: </span>}
          {path ? (
            <a
              href={path}
              onClick={(event) => {
                if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
                event.preventDefault();
                if (unread) onRead();
                void navigate({ href: path });
              }}
            >
              {notice.title}
            </a>
          ) : (
            notice.title
          )}
        </p>
        <p className="notice-body">{notice.body}</p>
        <p className="muted small tight">
          <span className="tag">{KIND_LABELS[notice.kind]}</span>{' '}
          <time dateTime={when} title={new Date(when).toLocaleString()}>
            {timeAgo(when, now)}
          </time>
        </p>
      </div>
      {unread && (
        <button type="button" onClick={onRead} aria-label={`Mark “${notice.title}” read`}>
          Mark read
        </button>
      )}
    </li>
  );
}
