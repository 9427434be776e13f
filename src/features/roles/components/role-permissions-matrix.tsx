"use client";

import { Loader2Icon } from "lucide-react";
import { useState } from "react";
import { toast } from "sonner";

import { Alert, AlertDescription } from "~/components/ui/alert";
import { Button } from "~/components/ui/button";
import { Checkbox } from "~/components/ui/checkbox";
import { Skeleton } from "~/components/ui/skeleton";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "~/components/ui/table";
import { PERMISSIONS, ROLES } from "~/features/permissions/catalog";
import { api } from "~/trpc/react";
import type { RoleView } from "../contracts";

/** Roles × permissions: each role's row is edited and saved on its own. */
export function RolePermissionsMatrix() {
  const list = api.roles.list.useQuery(undefined, { refetchOnWindowFocus: false });

  if (list.isPending) return <Skeleton className="h-40 w-full" />;
  if (list.isError) {
    return (
      <Alert variant="destructive">
        <AlertDescription>The roles could not be loaded: {list.error.message}</AlertDescription>
      </Alert>
    );
  }
  const { roles, permissions } = list.data;
  return (
    <Table aria-label="Permissions of each role">
      <TableHeader>
        <TableRow>
          <TableHead scope="col">Role</TableHead>
          {permissions.map((permission) => (
            <TableHead key={permission.key} scope="col" className="text-center">
              <span className="grid gap-0.5">
                <span>{permission.description || permission.key}</span>
                <code className="text-muted-foreground text-xs font-normal">{permission.key}</code>
              </span>
            </TableHead>
          ))}
          <TableHead scope="col">
            <span className="sr-only">Save</span>
          </TableHead>
        </TableRow>
      </TableHeader>
      <TableBody>
        {roles.map((role) => (
          <RoleRow key={`${role.id}:${role.permissions.join(",")}`} role={role} permissionKeys={permissions.map((p) => p.key)} />
        ))}
      </TableBody>
    </Table>
  );
}

function RoleRow({ role, permissionKeys }: { role: RoleView; permissionKeys: string[] }) {
  const utils = api.useUtils();
  const [draft, setDraft] = useState<string[]>(role.permissions);
  const changed = [...draft].sort().join(",") !== role.permissions.join(",");
  const save = api.roles.setPermissions.useMutation({
    onSuccess: (data) => {
      utils.roles.list.setData(undefined, data);
      toast.success(`Permissions of ${role.name} saved`);
    },
    onError: (error) => toast.error(`The permissions of ${role.name} were not saved`, { description: error.message }),
  });
  const toggle = (key: string, on: boolean) =>
    setDraft((current) => (on ? [...new Set([...current, key])] : current.filter((k) => k !== key)));

  return (
    <TableRow>
      <TableHead scope="row" className="align-top">
        <span className="grid gap-0.5 py-1">
          <span>{role.name}</span>
          <span className="text-muted-foreground text-xs font-normal">
            {role.memberCount === 1 ? "1 member" : `${role.memberCount} members`}
          </span>
        </span>
      </TableHead>
      {permissionKeys.map((key) => {
        const locked = role.name === ROLES.superAdmin && key === PERMISSIONS.rolesManage;
        return (
          <TableCell key={key} className="text-center">
            <Checkbox
              aria-label={`${role.name}: ${key}`}
              checked={draft.includes(key)}
              disabled={locked || save.isPending}
              title={locked ? "The Super Admin role always keeps roles:manage" : undefined}
              onCheckedChange={(value) => toggle(key, value === true)}
            />
          </TableCell>
        );
      })}
      <TableCell className="text-right">
        <Button
          size="sm"
          variant={changed ? "default" : "outline"}
          disabled={!changed || save.isPending}
          onClick={() => save.mutate({ roleId: role.id, permissionKeys: draft })}
        >
          {save.isPending && <Loader2Icon className="animate-spin" aria-hidden="true" />}
          Save {role.name}
        </Button>
      </TableCell>
    </TableRow>
  );
}
