"use client";

import { Loader2Icon } from "lucide-react";
import { useState } from "react";
import { toast } from "sonner";

import { Alert, AlertDescription } from "~/components/ui/alert";
import { Button } from "~/components/ui/button";
import { Checkbox } from "~/components/ui/checkbox";
import { Skeleton } from "~/components/ui/skeleton";
import { Table, TableBody, TableCell, TableFooter, TableHead, TableHeader, TableRow } from "~/components/ui/table";
import { PERMISSIONS, ROLES } from "~/features/permissions/catalog";
import { api } from "~/trpc/react";

const sameSet = (a: string[], b: string[]) => [...a].sort().join("\n") === [...b].sort().join("\n");

/** Permissions × roles: each role (a column) is edited and saved on its own. */
export function RolePermissionsMatrix() {
  const utils = api.useUtils();
  const list = api.roles.list.useQuery(undefined, { refetchOnWindowFocus: false });
  /** Unsaved sets, by role id; a role without an entry shows what is stored. */
  const [edits, setEdits] = useState<Record<string, string[]>>({});
  const save = api.roles.setPermissions.useMutation({
    onSuccess: (data, input) => {
      utils.roles.list.setData(undefined, data);
      setEdits(({ [input.roleId]: _saved, ...rest }) => rest);
      toast.success(`Permissions of ${data.roles.find((role) => role.id === input.roleId)?.name ?? "the role"} saved`);
    },
    onError: (error) => toast.error("The permissions were not saved", { description: error.message }),
  });

  if (list.isPending) return <Skeleton className="h-40 w-full" />;
  if (list.isError) {
    return (
      <Alert variant="destructive">
        <AlertDescription>The roles could not be loaded: {list.error.message}</AlertDescription>
      </Alert>
    );
  }
  const { roles, permissions } = list.data;
  const draftOf = (roleId: string, stored: string[]) => edits[roleId] ?? stored;
  const toggle = (roleId: string, stored: string[], key: string, on: boolean) =>
    setEdits((current) => {
      const draft = current[roleId] ?? stored;
      return { ...current, [roleId]: on ? [...new Set([...draft, key])] : draft.filter((k) => k !== key) };
    });

  return (
    <Table aria-label="Permissions of each role">
      <TableHeader>
        <TableRow>
          <TableHead scope="col">Permission</TableHead>
          {roles.map((role) => (
            <TableHead key={role.id} scope="col" className="text-center">
              <span className="grid gap-0.5 py-1">
                <span>{role.name}</span>
                <span className="text-muted-foreground text-xs font-normal">
                  {role.memberCount === 1 ? "1 member" : `${role.memberCount} members`}
                </span>
              </span>
            </TableHead>
          ))}
        </TableRow>
      </TableHeader>
      <TableBody>
        {permissions.map((permission) => (
          <TableRow key={permission.key}>
            <TableHead scope="row" className="h-auto py-2">
              <span className="grid gap-0.5">
                <span>{permission.description || permission.key}</span>
                <code className="text-muted-foreground text-xs font-normal">{permission.key}</code>
              </span>
            </TableHead>
            {roles.map((role) => {
              const locked = role.name === ROLES.superAdmin && permission.key === PERMISSIONS.rolesManage;
              return (
                <TableCell key={role.id} className="text-center">
                  <Checkbox
                    aria-label={`${role.name}: ${permission.key}`}
                    checked={draftOf(role.id, role.permissions).includes(permission.key)}
                    disabled={locked || (save.isPending && save.variables?.roleId === role.id)}
                    title={locked ? "The Super Admin role always keeps roles:manage" : undefined}
                    onCheckedChange={(value) => toggle(role.id, role.permissions, permission.key, value === true)}
                  />
                </TableCell>
              );
            })}
          </TableRow>
        ))}
      </TableBody>
      <TableFooter className="bg-transparent">
        <TableRow>
          <TableCell>
            <span className="sr-only">Save</span>
          </TableCell>
          {roles.map((role) => {
            const draft = draftOf(role.id, role.permissions);
            const changed = !sameSet(draft, role.permissions);
            const saving = save.isPending && save.variables?.roleId === role.id;
            return (
              <TableCell key={role.id} className="text-center">
                <Button
                  size="sm"
                  variant={changed ? "default" : "outline"}
                  disabled={!changed || saving}
                  onClick={() => save.mutate({ roleId: role.id, permissionKeys: draft })}
                >
                  {saving && <Loader2Icon className="animate-spin" aria-hidden="true" />}
                  Save {role.name}
                </Button>
              </TableCell>
            );
          })}
        </TableRow>
      </TableFooter>
    </Table>
  );
}
