"use client";

import { Loader2Icon } from "lucide-react";
import { useState, type FormEvent } from "react";
import { toast } from "sonner";

import { Alert, AlertDescription } from "~/components/ui/alert";
import { Badge } from "~/components/ui/badge";
import { Button } from "~/components/ui/button";
import { Checkbox } from "~/components/ui/checkbox";
import {
  Dialog,
  DialogContent,
  DialogDescription,
  DialogFooter,
  DialogHeader,
  DialogTitle,
} from "~/components/ui/dialog";
import { Input } from "~/components/ui/input";
import { Label } from "~/components/ui/label";
import { Skeleton } from "~/components/ui/skeleton";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "~/components/ui/table";
import { api } from "~/trpc/react";
import { ROLE_USERS_PAGE_SIZE, type RoleUser } from "../contracts";

/** Users with their roles: search by name or email, edit one user's roles in a dialog. */
export function UserRolesTable() {
  const [search, setSearch] = useState("");
  const [query, setQuery] = useState<string | undefined>(undefined);
  const [editing, setEditing] = useState<RoleUser | null>(null);
  const users = api.roles.users.useInfiniteQuery(
    { query, limit: ROLE_USERS_PAGE_SIZE.default },
    { getNextPageParam: (page) => page.nextCursor ?? undefined, refetchOnWindowFocus: false },
  );
  const rows = users.data?.pages.flatMap((page) => page.items) ?? [];

  const apply = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setQuery(search.trim() || undefined);
  };

  return (
    <div className="grid gap-4">
      <form role="search" aria-label="Users" onSubmit={apply} className="flex flex-wrap items-end gap-2">
        <div className="grid gap-1.5">
          <Label htmlFor="role-users-search">Search users</Label>
          <Input
            id="role-users-search"
            type="search"
            placeholder="Name or email"
            value={search}
            onChange={(event) => setSearch(event.target.value)}
            className="w-64"
          />
        </div>
        <Button type="submit" variant="outline">
          Search
        </Button>
      </form>

      {users.isPending ? (
        <Skeleton className="h-32 w-full" />
      ) : users.isError ? (
        <Alert variant="destructive">
          <AlertDescription>The users could not be loaded: {users.error.message}</AlertDescription>
        </Alert>
      ) : rows.length === 0 ? (
        <p className="text-muted-foreground text-sm">No user matches.</p>
      ) : (
        <Table aria-label="Users and their roles">
          <TableHeader>
            <TableRow>
              <TableHead scope="col">Name</TableHead>
              <TableHead scope="col">Email</TableHead>
              <TableHead scope="col">Roles</TableHead>
              <TableHead scope="col">
                <span className="sr-only">Actions</span>
              </TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {rows.map((user) => (
              <TableRow key={user.id}>
                <TableCell className="font-medium">
                  {user.name}
                  {user.disabled && <span className="text-muted-foreground"> (disabled)</span>}
                </TableCell>
                <TableCell>{user.email}</TableCell>
                <TableCell>
                  <span className="flex flex-wrap gap-1">
                    {user.roles.length === 0 ? (
                      <span className="text-muted-foreground">No role</span>
                    ) : (
                      user.roles.map((role) => (
                        <Badge key={role.id} variant="secondary">
                          {role.name}
                        </Badge>
                      ))
                    )}
                  </span>
                </TableCell>
                <TableCell className="text-right">
                  <Button size="sm" variant="outline" onClick={() => setEditing(user)}>
                    Edit roles<span className="sr-only"> of {user.name}</span>
                  </Button>
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
      {users.hasNextPage && (
        <Button variant="outline" className="justify-self-start" disabled={users.isFetchingNextPage} onClick={() => void users.fetchNextPage()}>
          {users.isFetchingNextPage && <Loader2Icon className="animate-spin" aria-hidden="true" />}
          Show more
        </Button>
      )}
      {editing && <UserRolesDialog key={editing.id} user={editing} onClose={() => setEditing(null)} />}
    </div>
  );
}

function UserRolesDialog({ user, onClose }: { user: RoleUser; onClose: () => void }) {
  const utils = api.useUtils();
  const roles = api.roles.list.useQuery(undefined, { refetchOnWindowFocus: false });
  const [draft, setDraft] = useState<string[]>(user.roles.map((role) => role.id));
  const save = api.roles.setUserRoles.useMutation({
    onSuccess: async (updated) => {
      toast.success(`Roles of ${updated.name} saved`);
      onClose();
      await Promise.all([utils.roles.users.invalidate(), utils.roles.list.invalidate()]);
    },
    onError: (error) => toast.error(`The roles of ${user.name} were not saved`, { description: error.message }),
  });
  const toggle = (id: string, on: boolean) =>
    setDraft((current) => (on ? [...new Set([...current, id])] : current.filter((roleId) => roleId !== id)));

  return (
    <Dialog open onOpenChange={(open) => !open && onClose()}>
      <DialogContent>
        <DialogHeader>
          <DialogTitle>Roles of {user.name}</DialogTitle>
          <DialogDescription>
            {user.email}. The change applies to their next request; no new sign-in is needed.
          </DialogDescription>
        </DialogHeader>
        {roles.isPending ? (
          <Skeleton className="h-24 w-full" />
        ) : roles.isError ? (
          <Alert variant="destructive">
            <AlertDescription>The roles could not be loaded: {roles.error.message}</AlertDescription>
          </Alert>
        ) : (
          <fieldset className="grid gap-3">
            <legend className="sr-only">Roles</legend>
            {roles.data.roles.map((role) => (
              <div key={role.id} className="flex items-start gap-3">
                <Checkbox
                  id={`user-role-${role.id}`}
                  checked={draft.includes(role.id)}
                  onCheckedChange={(value) => toggle(role.id, value === true)}
                  disabled={save.isPending}
                />
                <Label htmlFor={`user-role-${role.id}`} className="grid gap-0.5">
                  <span>{role.name}</span>
                  {role.description && <span className="text-muted-foreground text-xs font-normal">{role.description}</span>}
                </Label>
              </div>
            ))}
          </fieldset>
        )}
        <DialogFooter>
          <Button variant="outline" onClick={onClose} disabled={save.isPending}>
            Cancel
          </Button>
          <Button disabled={save.isPending || roles.isPending} onClick={() => save.mutate({ userId: user.id, roleIds: draft })}>
            {save.isPending && <Loader2Icon className="animate-spin" aria-hidden="true" />}
            Save roles
          </Button>
        </DialogFooter>
      </DialogContent>
    </Dialog>
  );
}
